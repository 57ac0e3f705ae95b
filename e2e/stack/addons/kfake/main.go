// Command chainsmith-kfake runs franz-go's in-memory Kafka broker (github.com/twmb/franz-go/pkg/kfake) for the test
// stack's storage add-on. Upstream's own main is `//go:build none` and listens on fixed ports (9092-9094) with a
// pprof server on :6060, so this one listens on a single loopback port given by flag, seeds the topics it is told,
// lets clients create more, prints the broker's address, and exits on SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "port the broker listens on, on 127.0.0.1 (required)")
	topics := flag.String("topics", "chains", "comma-separated topics to create at start")
	partitions := flag.Int("partitions", 1, "partitions of each seeded topic")
	logLevel := flag.String("log-level", "warn", "none, error, warn, info or debug")
	flag.Parse()
	if *port <= 0 {
		fmt.Fprintln(os.Stderr, "chainsmith-kfake: --port is required")
		os.Exit(2)
	}
	levels := map[string]kfake.LogLevel{
		"none": kfake.LogLevelNone, "error": kfake.LogLevelError, "warn": kfake.LogLevelWarn,
		"info": kfake.LogLevelInfo, "debug": kfake.LogLevelDebug,
	}
	level, ok := levels[*logLevel]
	if !ok {
		fmt.Fprintf(os.Stderr, "chainsmith-kfake: unknown --log-level %q\n", *logLevel)
		os.Exit(2)
	}

	opts := []kfake.Opt{
		kfake.Ports(*port), // one broker; kfake binds 127.0.0.1 only
		kfake.AllowAutoTopicCreation(),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
	}
	var seed []string
	for _, t := range strings.Split(*topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			seed = append(seed, t)
		}
	}
	if len(seed) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), seed...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chainsmith-kfake: %v\n", err)
		os.Exit(1)
	}
	for _, addr := range c.ListenAddrs() {
		fmt.Println(addr)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	<-sigs
	c.Close()
}
