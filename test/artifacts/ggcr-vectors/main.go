// Command ggcr-vectors prints how go-containerregistry (the library Tekton Chains uses) parses each candidate
// image reference, and how Chains' ParseDigest judges each digest. chainsmith's TypeScript parsers are tested
// against its output (vectors.json). Run: go run . < inputs.json > vectors.json (see README.md).
package main

import (
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
)

type vector struct {
	Input      string `json:"input"`
	OK         bool   `json:"ok"`
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// Chains' ParseDigest on the part after the last '@' (or the whole input without one)
	DigestOK  bool   `json:"digestOk"`
	Algorithm string `json:"algorithm,omitempty"`
	Hex       string `json:"hex,omitempty"`
}

var sha1Regexp = regexp.MustCompile(`^[a-f0-9]{40}$`)

// parseDigest is tektoncd/chains pkg/artifacts/signable.go ParseDigest (Apache-2.0), unchanged in behaviour.
func parseDigest(dig string) (string, string, error) {
	parts := strings.Split(dig, ":")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("not <algorithm>:<digest>")
	}
	algo := strings.ToLower(strings.TrimSpace(parts[0]))
	a := digest.Algorithm(algo)
	hex := strings.TrimSpace(parts[1])
	switch {
	case a.Available():
		if err := a.Validate(hex); err != nil {
			return "", "", err
		}
	case algo == "sha1":
		if !sha1Regexp.MatchString(hex) {
			return "", "", fmt.Errorf("bad sha1")
		}
	default:
		return "", "", fmt.Errorf("unsupported")
	}
	return algo, hex, nil
}

func main() {
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	out := make([]vector, 0, len(inputs))
	for _, in := range inputs {
		v := vector{Input: in}
		if d, err := name.NewDigest(in); err == nil {
			v.OK, v.Repository, v.Digest = true, d.Repository.Name(), d.DigestStr()
		}
		dig := in
		if i := strings.LastIndex(in, "@"); i >= 0 {
			dig = in[i+1:]
		}
		if alg, hex, err := parseDigest(dig); err == nil {
			v.DigestOK, v.Algorithm, v.Hex = true, alg, hex
		}
		out = append(out, v)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
