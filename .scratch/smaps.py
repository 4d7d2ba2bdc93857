import sys,re,collections
f=sys.argv[1]
cur=None;tot=collections.Counter();anon_sizes=[]
for line in open(f):
    m=re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$',line)
    if m:
        a,b,perm,name=m.groups();size=(int(b,16)-int(a,16))//1024
        if not name: key='anon'
        elif 'medianest' in name: key='bin '+perm
        else: key=name.split('/')[-1]+' '+perm
        cur=(key,size);continue
    if line.startswith('Rss:'):
        kb=int(line.split()[1]);tot[cur[0]]+=kb
        if cur[0]=='anon' and kb>512: anon_sizes.append((kb,cur[1]))
for k,v in tot.most_common(25): print(f"{v/1024:8.1f} MiB {k}")
print('total',sum(tot.values())/1024)
print('anon mappings >512K rss (rss KiB, size KiB):',sorted(anon_sizes,reverse=True)[:20])
