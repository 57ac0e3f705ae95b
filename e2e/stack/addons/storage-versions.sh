# Pinned versions of the real storage servers the storage add-on builds (sourced by build-storage.sh and
# storage-up.sh): the peers of Tekton Chains' other storage backends (docs/testing.md, "storage add-on").
# - fake-gcs-server v1.56.1: the GCS JSON/XML API in memory (`gcs`); `go install`, no replace directives.
# - FerretDB v1.24.2: the MongoDB wire protocol on SQLite (`docdb`). v1 because v2 needs the DocumentDB PostgreSQL
#   extension, which Debian lacks. Built from a copy of its module source (version.txt + one patch: build-storage.sh).
# - kfake: franz-go's in-memory Kafka broker (`kafka`), through our own main (addons/kfake/). Its own module has no tags,
#   so it is pinned to the pseudo-version the proxy resolved for @latest in December 2026 (also in kfake/go.mod).
# - Archivista v0.11.1: in-toto attestation store (`archivista`) on PostgreSQL; the proxy refuses its version list, so
#   a wrapper module with go.sum seeded from Archivista's own.
: "${FAKE_GCS_VERSION:=v1.56.1}"
: "${FERRETDB_VERSION:=v1.24.2}"
: "${KFAKE_VERSION:=v0.0.0-20260918054303-01f206a7e32c}"
: "${ARCHIVISTA_VERSION:=v0.11.1}"
