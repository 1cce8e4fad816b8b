package agent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// memStore is a Store in memory.
type memStore struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newMemStore(files map[string]string) *memStore {
	s := &memStore{files: map[string][]byte{}}
	for k, v := range files {
		s.files[k] = []byte(v)
	}
	return s
}

func (s *memStore) Stat(_ context.Context, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[key]
	if !ok {
		return 0, ErrNoFile
	}
	return int64(len(b)), nil
}

func (s *memStore) Open(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[key]
	if !ok {
		return nil, ErrNoFile
	}
	b = b[offset:]
	if length > 0 {
		b = b[:length]
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *memStore) List(_ context.Context, prefix string) ([]StoreFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StoreFile
	for k, b := range s.files {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, StoreFile{Name: name, Size: int64(len(b))})
		}
	}
	slices.SortFunc(out, func(a, b StoreFile) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *memStore) Put(_ context.Context, key string, r io.Reader, _ int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[key] = b
	return nil
}

func (s *memStore) Remove(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[key]; !ok {
		return ErrNoFile
	}
	delete(s.files, key)
	return nil
}

const (
	dataID = "ab01234567890123456789012345678901234567890123456789012345678901"
	snapID = "cd01234567890123456789012345678901234567890123456789012345678901"
	lockID = "ef01234567890123456789012345678901234567890123456789012345678901"
)

func testRepoStore() *memStore {
	return newMemStore(map[string]string{
		"config":              "CONFIG",
		"keys/" + snapID:      "KEY",
		"data/ab/" + dataID:   "0123456789",
		"snapshots/" + snapID: "SNAP",
	})
}

// restCall sends one request to the server with its credentials and returns the
// status, the body and the headers.
func restCall(t *testing.T, srv *httptest.Server, method, path string, body string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("u", "p")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// The REST protocol as restic's rest: backend speaks it: the config, files by type
// (data in its two-character folder), ranges, lists in both versions.
func TestRESTServerReads(t *testing.T) {
	srv := httptest.NewServer(&RESTServer{Store: testRepoStore(), User: "u", Password: "p"})
	defer srv.Close()
	v2 := map[string]string{"Accept": restV2}
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		body               string
		contentLength      string
	}{
		{"config", "GET", "/config", nil, 200, "CONFIG", "6"},
		{"config head", "HEAD", "/config", nil, 200, "", "6"},
		{"data file", "GET", "/data/" + dataID, nil, 200, "0123456789", "10"},
		{"data head", "HEAD", "/data/" + dataID, nil, 200, "", "10"},
		{"range", "GET", "/data/" + dataID, map[string]string{"Range": "bytes=2-5"}, 206, "2345", "4"},
		{"open range", "GET", "/data/" + dataID, map[string]string{"Range": "bytes=7-"}, 206, "789", "3"},
		{"suffix range", "GET", "/data/" + dataID, map[string]string{"Range": "bytes=-2"}, 206, "89", "2"},
		{"bad range", "GET", "/data/" + dataID, map[string]string{"Range": "bytes=20-30"}, 416, "", ""},
		{"missing", "GET", "/snapshots/" + dataID, nil, 404, "", ""},
		{"missing head", "HEAD", "/keys/" + dataID, nil, 404, "", ""},
		{"not a name", "GET", "/data/..%2Fconfig", nil, 404, "", ""},
		{"not a type", "GET", "/other/" + dataID, nil, 404, "", ""},
		{"list v1", "GET", "/data/", nil, 200, `["` + dataID + `"]` + "\n", ""},
		{"list v2", "GET", "/snapshots/", v2, 200, `[{"name":"` + snapID + `","size":4}]` + "\n", ""},
		{"empty list", "GET", "/locks/", v2, 200, "[]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := restCall(t, srv, tt.method, tt.path, "", tt.header)
			if status != tt.status {
				t.Fatalf("status %d (%q), want %d", status, body, tt.status)
			}
			if tt.body != "" && body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if tt.contentLength != "" && h.Get("Content-Length") != tt.contentLength {
				t.Errorf("Content-Length %q, want %q", h.Get("Content-Length"), tt.contentLength)
			}
		})
	}
}

// A copy's source takes a read lock and nothing else: locks can be written and
// removed, every other file and the repository itself cannot.
func TestRESTServerWritesLocksOnly(t *testing.T) {
	store := testRepoStore()
	srv := httptest.NewServer(&RESTServer{Store: store, User: "u", Password: "p"})
	defer srv.Close()
	if status, body, _ := restCall(t, srv, "POST", "/locks/"+lockID, "LOCK", nil); status != 200 {
		t.Fatalf("writing a lock: %d %q", status, body)
	}
	if got := string(store.files["locks/"+lockID]); got != "LOCK" {
		t.Fatalf("lock stored as %q", got)
	}
	if status, _, _ := restCall(t, srv, "DELETE", "/locks/"+lockID, "", nil); status != 200 {
		t.Fatalf("removing the lock: %d", status)
	}
	if _, ok := store.files["locks/"+lockID]; ok {
		t.Fatal("the lock is still there")
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/data/" + lockID}, {"POST", "/snapshots/" + lockID}, {"POST", "/config"},
		{"DELETE", "/data/" + dataID}, {"DELETE", "/snapshots/" + snapID}, {"DELETE", "/keys/" + snapID},
		{"DELETE", "/config"}, {"POST", "/?create=true"},
	} {
		if status, _, _ := restCall(t, srv, c.method, c.path, "X", nil); status != http.StatusForbidden {
			t.Errorf("%s %s: status %d, want 403", c.method, c.path, status)
		}
	}
	want := testRepoStore().files
	if len(store.files) != len(want) {
		t.Fatalf("the store changed: %v", store.files)
	}
	for k, v := range want {
		if !bytes.Equal(store.files[k], v) {
			t.Errorf("%s changed to %q", k, store.files[k])
		}
	}
}

// Without the server's credentials nothing is served.
func TestRESTServerNeedsItsCredentials(t *testing.T) {
	srv := httptest.NewServer(&RESTServer{Store: testRepoStore(), User: "u", Password: "p"})
	defer srv.Close()
	for _, auth := range []func(*http.Request){
		func(*http.Request) {},
		func(r *http.Request) { r.SetBasicAuth("u", "wrong") },
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/config", nil)
		auth(req)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	}
}

func TestParseS3(t *testing.T) {
	tests := []struct {
		in   string
		want S3Location
		err  bool
	}{
		{"s3:http://127.0.0.1:9000/bucket/a/b", S3Location{Endpoint: "127.0.0.1:9000", Bucket: "bucket", Prefix: "a/b/"}, false},
		{"s3:https://minio.example/bucket", S3Location{Endpoint: "minio.example", Secure: true, Bucket: "bucket"}, false},
		{"s3:s3.amazonaws.com/bucket/repo/", S3Location{Endpoint: "s3.amazonaws.com", Secure: true, Bucket: "bucket", Prefix: "repo/"}, false},
		{"s3:s3.amazonaws.com", S3Location{}, true},
		{"b2:bucket:path", S3Location{}, true},
	}
	for _, tt := range tests {
		got, err := ParseS3(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseS3(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func readFileString(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
