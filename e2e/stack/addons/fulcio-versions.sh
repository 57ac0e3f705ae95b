# Pinned version of the Fulcio certificate authority the stack add-on builds (sourced by build-fulcio.sh and
# fulcio-up.sh). v1.8.8 (go 1.26.0) is the newest release the Go module proxy serves, and it builds with the machine's
# Go 1.26; Tekton Chains v0.29.2 talks to Fulcio through cosign v2's client (the legacy v1 API).
: "${FULCIO_VERSION:=v1.8.8}"
