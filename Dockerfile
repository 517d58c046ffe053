# Build and run `tavle serve`. Used by docker-compose.yml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tavle

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 tavle
COPY --from=build /src/target/release/tavle /usr/local/bin/tavle
COPY static /srv/tavle/static
ENV TAVLE_STATIC_DIR=/srv/tavle/static
USER tavle
EXPOSE 8080
CMD ["tavle", "serve"]
