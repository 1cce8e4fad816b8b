//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// minio is an S3 server on 127.0.0.1 with one empty bucket, for the S3 backend tests.
// It listens on loopback only: a helper container reaches it with host networking.
type minio struct {
	// URL is the endpoint, e.g. http://127.0.0.1:40123.
	URL       string
	Bucket    string
	AccessKey string
	SecretKey string
}

// Repo is the restic repository address of a folder in the bucket.
func (m *minio) Repo(folder string) string {
	return "s3:" + m.URL + "/" + m.Bucket + "/" + folder
}

// Env is the environment restic needs for the bucket.
func (m *minio) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + m.AccessKey, "AWS_SECRET_ACCESS_KEY=" + m.SecretKey}
}

// startMinio runs the MinIO server built by e2e/images/build.sh on free loopback ports
// with a temporary data folder and random credentials, waits until it is live, creates
// a bucket, and stops it when the test ends.
func startMinio(t testing.TB) *minio {
	t.Helper()
	m := &minio{Bucket: "dbe2e", AccessKey: "dbe2e" + randomHex(6), SecretKey: randomHex(16)}
	addr, console := freeLoopbackAddr(t), freeLoopbackAddr(t)
	m.URL = "http://" + addr

	exited := launchMinio(t, nil, addr, console, m.AccessKey, m.SecretKey)

	// live answers before the object layer is up; ready (and the bucket's creation,
	// retried on 503 "Server not initialized yet") only after.
	eventually(t, time.Minute, "MinIO to be ready", func() error {
		exited()
		resp, err := http.Get(m.URL + "/minio/health/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		if err := m.do(http.MethodPut, "/"+m.Bucket); err != nil {
			if strings.Contains(err.Error(), "503") {
				return err
			}
			t.Fatalf("creating bucket %s: %v", m.Bucket, err)
		}
		return nil
	})
	return m
}

// launchMinio runs the MinIO server built by e2e/images/build.sh, after the command
// words of prefix (nsenter into a namespace, say; empty: none), on addr and console with
// a temporary data folder and those root credentials, and stops it when the test ends
// (its log shown if the test failed). The returned func fails the test if MinIO has
// exited: call it while waiting for MinIO to be ready.
func launchMinio(t testing.TB, prefix []string, addr, console, user, password string) (exited func()) {
	t.Helper()
	argv := append(append([]string{}, prefix...), env.minioBin, "server", "--quiet", "--address", addr, "--console-address", console, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+user, "MINIO_ROOT_PASSWORD="+password,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	// nsenter execs MinIO: the process is MinIO's either way.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting MinIO: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("MinIO's log:\n%s", log.String())
		}
	})
	return func() {
		select {
		case <-done:
			t.Fatalf("MinIO exited: %v\n%s", cmd.ProcessState, log.String())
		default:
		}
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port nobody listens on now.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// do sends an S3 request with an empty body, signed with AWS Signature Version 4
// (MinIO has no unsigned bucket creation and there is no mc here).
func (m *minio) do(method, path string) error {
	req, err := http.NewRequest(method, m.URL+path, nil)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	stamp, day := now.Format("20060102T150405Z"), now.Format("20060102")
	emptyHash := hex.EncodeToString(sha256Sum(nil))
	req.Header.Set("x-amz-date", stamp)
	req.Header.Set("x-amz-content-sha256", emptyHash)
	const signed = "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{method, path, "",
		"host:" + req.URL.Host, "x-amz-content-sha256:" + emptyHash, "x-amz-date:" + stamp, "",
		signed, emptyHash}, "\n")
	scope := day + "/us-east-1/s3/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sha256Sum([]byte(canonical)))
	key := []byte("AWS4" + m.SecretKey)
	for _, part := range []string{day, "us-east-1", "s3", "aws4_request"} {
		key = hmacSum(key, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		m.AccessKey, scope, signed, hex.EncodeToString(hmacSum(key, toSign))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, body.String())
	}
	return nil
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func hmacSum(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
