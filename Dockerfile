# syntax=docker/dockerfile:1
# MediaNest: build the single binary with Bun, run it on Debian slim with yt-dlp and ffmpeg.
#   docker build -t medianest .
#   docker run -p 8080:8080 -v medianest-data:/data medianest

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
FROM debian:bookworm-slim AS ytdlp
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
 && curl -fsSL -o "$asset" "$base/$asset" \
 && curl -fsSL -o SHA2-256SUMS "$base/SHA2-256SUMS" \
 && grep " ${asset}\$" SHA2-256SUMS | sha256sum -c - \
 && install -m 0755 "$asset" /usr/local/bin/yt-dlp \
 && test "$(/usr/local/bin/yt-dlp --version)" = "${YTDLP_VERSION}"

# --- runtime --------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg tini tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 medianest \
 && useradd --system --uid 10001 --gid medianest --home-dir /data --no-create-home --shell /usr/sbin/nologin medianest \
 && install -d -o medianest -g medianest -m 0750 /data
COPY --from=ytdlp /usr/local/bin/yt-dlp /usr/local/bin/yt-dlp
COPY --from=build /src/dist/medianest /usr/local/bin/medianest

ENV MEDIANEST_DATA_DIR=/data \
    MEDIANEST_HOST=0.0.0.0 \
    MEDIANEST_PORT=8080
USER medianest
WORKDIR /data
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/medianest","healthcheck"]
# tini reaps the yt-dlp and ffmpeg processes a download leaves behind and passes SIGTERM on.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/medianest"]
CMD ["serve"]
