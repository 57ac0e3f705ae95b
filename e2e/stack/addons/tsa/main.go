// Command chainsmith-tsa serves the RFC 3161 REST API of the Sigstore timestamp authority
// (github.com/sigstore/timestamp-authority/v2) and nothing else. Upstream's `timestamp-server serve` also starts a
// Prometheus server on :2112, on every interface and fixed, and exits when that port is taken: by Rekor v1, Fulcio
// or a second test stack on the same machine. This main configures the same viper settings `serve` would and starts
// only pkg/server's REST API server, on the loopback address and port it is given.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spf13/viper"

	tsalog "github.com/sigstore/timestamp-authority/v2/pkg/log"
	"github.com/sigstore/timestamp-authority/v2/pkg/server"
)

// sigstorePolicyOID is the timestamp policy Sigstore's TSA answers with (upstream's default and only accepted one).
const sigstorePolicyOID = "1.3.6.1.4.1.57264.2"

func main() {
	host := flag.String("host", "127.0.0.1", "address the REST API listens on")
	port := flag.Int("port", 0, "port the REST API listens on (required)")
	key := flag.String("file-signer-key-path", "", "PEM private key of the timestamping certificate (required)")
	chain := flag.String("certificate-chain-path", "", "PEM chain: the timestamping leaf first, the root last (required)")
	logType := flag.String("log-type", "prod", "logger type (dev/prod)")
	flag.Parse()
	if *port <= 0 || *key == "" || *chain == "" {
		fmt.Fprintln(os.Stderr, "chainsmith-tsa: --port, --file-signer-key-path and --certificate-chain-path are required")
		os.Exit(2)
	}
	tsalog.ConfigureLogger(*logType)

	// What pkg/api.NewAPI and the generated middleware read, with `timestamp-server serve`'s defaults; a file signer
	// so the chain stays the same across a restart (the memory signer makes a new one each time).
	settings := map[string]any{
		"timestamp-signer":          "file",
		"timestamp-signer-hash":     "sha256",
		"file-signer-key-path":      *key,
		"file-signer-passwd":        "",
		"certificate-chain-path":    *chain,
		"enforce-intermediate-eku":  true,
		"include-chain-in-response": false,
		"use-http-201":              false,
		"default-policy-oid":        sigstorePolicyOID,
		"accepted-policy-oids":      []string{sigstorePolicyOID},
		"allow-custom-extensions":   false,
		"max-request-body-size":     uint64(1 << 20),
		// Only `serve` reads this (no NTP monitor runs here); set for anyone reading the settings.
		"disable-ntp-monitoring": true,
	}
	for k, v := range settings {
		viper.Set(k, v)
	}

	api := server.NewRestAPIServer(*host, *port, []string{"http"}, false, 30*time.Second, 30*time.Second)
	api.CleanupTimeout = 10 * time.Second
	tsalog.Logger.Infof("chainsmith-tsa: timestamp authority REST API on http://%s:%d (no metrics server)", *host, *port)
	defer func() { _ = api.Shutdown() }()
	if err := api.Serve(); err != nil {
		tsalog.Logger.Fatal(err)
	}
}
