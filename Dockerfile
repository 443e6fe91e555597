# Builds the operator image. Not buildable on the development machines (no Docker
# engine there); kept honest by building the same commands scripts/test runs.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libcurl4-openssl-dev libssl-dev libyaml-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product medsearch-operator --static-swift-stdlib

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libcurl4 libssl3 libyaml-0-2 ca-certificates \
 && rm -rf /var/lib/apt/lists/* && useradd --uid 65532 --no-create-home nonroot
COPY --from=build /src/.build/release/medsearch-operator /usr/local/bin/medsearch-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/medsearch-operator"]
CMD ["run"]
