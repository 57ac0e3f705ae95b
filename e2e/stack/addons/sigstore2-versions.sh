# Pinned versions of the Sigstore v2 pieces the sigstore2 add-on builds (sourced by build-sigstore2.sh and
# sigstore2-up.sh): the newest releases the Go module proxy serves that build with the machine's Go 1.26.
# - rekor-tiles v2.3.0 (Rekor v2, tile-based, POSIX storage; v2.4.x needs Go 1.27): `go install …/cmd/rekor-server/posix`.
# - timestamp-authority v2.1.3 (RFC 3161; v2.2.x needs Go 1.27): its library, through our own main (addons/tsa/),
#   because its `serve` command insists on a metrics server on *:2112 and exits when that port is taken.
: "${REKOR_TILES_VERSION:=v2.3.0}"
: "${TSA_VERSION:=v2.1.3}"
