// Command linked-service is a linked service written in Go: it holds a few
// records of each user in memory and takes part in account deletion by
// implementing deletion.participant.v1.ErasureParticipantService, with code
// generated from the same .proto as the deletion service (see buf.gen.yaml).
//
//	go run . -addr 127.0.0.1:50064 -subjects alice,bob,carla
//
// The flags default to the environment variables LISTEN_ADDR and SUBJECTS.
// SIGTERM or SIGINT stops it gracefully: it takes no new call, finishes the
// ones under way (for at most -grace) and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	participantv1 "account-deletion-service/examples/linked-services/go/gen/deletion/participant/v1"
)

func main() {
	addr := flag.String("addr", envOr("LISTEN_ADDR", "127.0.0.1:50064"),
		"host:port to serve on, port 0 for any free one (env LISTEN_ADDR)")
	subjects := flag.String("subjects", envOr("SUBJECTS", "alice,bob,carla"),
		"comma-separated ids of the test subjects it holds records for (env SUBJECTS)")
	grace := flag.Duration("grace", 10*time.Second, "how long a stop waits for calls under way")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Once a stop has begun, a second signal ends the process at once.
	context.AfterFunc(ctx, stop)

	if err := run(ctx, *addr, splitList(*subjects), *grace, log); err != nil {
		log.Error("failed", "error", err)
		os.Exit(1)
	}
}

// run serves the participant service on addr until ctx is done, then stops
// gracefully: the health service turns NOT_SERVING, no new call is taken,
// and calls under way get up to grace to finish before they are cut.
func run(ctx context.Context, addr string, subjects []string, grace time.Duration, log *slog.Logger) error {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// Production services add TLS here (grpc.Creds(credentials.NewTLS(...)),
	// requiring the deletion service's client certificate) and an OpenTelemetry
	// stats handler (go.opentelemetry.io/contrib/.../otelgrpc) to continue the
	// caller's trace; the deadline arrives in each call's context by itself.
	server := grpc.NewServer()
	participantv1.RegisterErasureParticipantServiceServer(server, &participant{store: newStore(subjects), log: log})
	healthServer := health.NewServer()
	healthServer.SetServingStatus(participantv1.ErasureParticipantService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, healthServer)

	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	log.Info("serving", "addr", listener.Addr().String(), "subjects", len(subjects))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping", "grace", grace)
	healthServer.Shutdown()
	stopped := make(chan struct{})
	go func() {
		server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(grace):
		log.Warn("calls still under way after the grace period: cutting them")
		server.Stop()
		<-stopped
	}
	log.Info("stopped")
	return nil
}

// envOr returns the environment variable name, or fallback when it is unset or empty.
func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(list string) []string {
	var items []string
	for item := range strings.SplitSeq(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
