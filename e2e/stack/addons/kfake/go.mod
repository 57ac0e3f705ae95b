// The module of our kfake main (build-storage.sh builds a copy; no go.sum kept here). kfake is pinned to the
// pseudo-version the proxy resolved for @latest (storage-versions.sh, KFAKE_VERSION). Its own go.mod names
// franz-go v1.21.7, which lacks kversion APIs it calls (EachSupportedFeature); franz-go v1.22.0 is the tag of the
// same commit (2026-09-18 05:43:03), so it is required here.
module local/chainsmith-kfake

go 1.26.0

require github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.30 // indirect
	github.com/twmb/franz-go v1.22.0 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.14.0 // indirect
)
