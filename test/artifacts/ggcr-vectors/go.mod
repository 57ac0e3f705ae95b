module chainsmith.dev/test/ggcr-vectors

go 1.25.0

require (
	github.com/google/go-containerregistry v0.21.9
	github.com/opencontainers/go-digest v1.0.0
)
