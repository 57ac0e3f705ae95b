# Pinned versions of the Rekor v1 transparency log the stack add-on builds (sourced by build-rekor.sh and rekor-up.sh).
# Rekor v1.5.4 is the newest release that builds with the machine's Go 1.26 (v1.6.x needs a Go 1.27 toolchain); Tekton
# Chains v0.29.2 uploads with the rekor v1.5.3 client. Trillian v1.7.3 is its storage (MariaDB from Debian).
: "${TRILLIAN_VERSION:=v1.7.3}"
: "${REKOR_VERSION:=v1.5.4}"
# Trillian compiles every storage and election backend unless told otherwise: `mysql` keeps MySQL storage and
# quota only (drops Cloud Spanner, CockroachDB, PostgreSQL), `etcd` keeps the etcd election its servers import
# anyway (drops the Kubernetes one, client-go).
: "${TRILLIAN_BUILD_TAGS:=mysql,etcd}"
