# syntax=docker/dockerfile:1
# MediaNest: build the single binary with Bun, run it on Debian slim with yt-dlp, ffmpeg and the PostgreSQL client.
#   docker build -t medianest .
#   docker run -p 8080:8080 --read-only --tmpfs /tmp -v medianest-data:/data -v /srv/media:/downloads medianest
# Build arguments: BUN_VERSION, YTDLP_VERSION (a yt-dlp release tag), VERSION, REVISION and CREATED (the labels).

ARG BUN_VERSION=1.4.5

# --- build: compile src/main.ts into one self-contained binary ----------------------------------------------
FROM oven/bun:${BUN_VERSION} AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
# Only what the binary is built from (no node_modules, data or dist from the build context).
COPY tsconfig.json bunfig.toml ./
COPY src ./src
COPY views ./views
COPY migrations ./migrations
COPY public ./public
RUN bun run build && ./dist/medianest version

# --- yt-dlp: a pinned release binary, checked against the release's own checksums; Debian's package is too ----
# old to keep up with YouTube. Move the pin forward with: docker build --build-arg YTDLP_VERSION=<release tag> .
FROM debian:trixie-slim AS ytdlp
ARG TARGETARCH
ARG YTDLP_VERSION=2026.10.26
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && case "${TARGETARCH:-amd64}" in \
      amd64) asset=yt-dlp_linux ;; \
      arm64) asset=yt-dlp_linux_aarch64 ;; \
      *) echo "no yt-dlp build for ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && base="https://github.com/yt-dlp/yt-dlp/releases/download/${YTDLP_VERSION}" \
 && cd /tmp \
 && curl -fsSLO "$base/$asset" \
 && curl -fsSLO "$base/SHA2-256SUMS" \
 && grep " ${asset}\$" SHA2-256SUMS | sha256sum -c - \
 && install -m 0755 "$asset" /usr/local/bin/yt-dlp \
 && test "$(/usr/local/bin/yt-dlp --version)" = "${YTDLP_VERSION}"

# --- runtime --------------------------------------------------------------------------------------------------
# trixie: ffmpeg 7 and PostgreSQL 17's pg_dump, which backs up servers up to 17 (postgres:16 in compose.swarm.yml).
FROM debian:trixie-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="MediaNest" \
      org.opencontainers.image.description="Media requests, downloads and status for a Plex household, in one binary" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:trixie-slim"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg postgresql-client tini tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 medianest \
 && useradd --system --uid 10001 --gid medianest --home-dir /data --no-create-home --shell /usr/sbin/nologin medianest \
 && install -d -o medianest -g medianest -m 0750 /data \
 && install -d -o medianest -g medianest -m 0755 /downloads
COPY --from=ytdlp /usr/local/bin/yt-dlp /usr/local/bin/yt-dlp
COPY --from=build /src/dist/medianest /usr/local/bin/medianest

# Everything written lives under /data, /downloads or /tmp, so the root file system can be read-only
# (docker run --read-only --tmpfs /tmp; compose: read_only: true, tmpfs: [/tmp]). yt-dlp unpacks itself into TMPDIR.
ENV MEDIANEST_DATA_DIR=/data \
    MEDIANEST_HOST=0.0.0.0 \
    MEDIANEST_PORT=8080
ENV HOME=/data \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache
USER 10001:10001
WORKDIR /data
VOLUME /data
VOLUME /downloads
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/medianest","healthcheck"]
# tini reaps the yt-dlp and ffmpeg processes a download leaves behind and passes SIGTERM on.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/medianest"]
CMD ["serve"]
