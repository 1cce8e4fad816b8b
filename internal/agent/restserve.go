package agent

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Store is where a served repository's files are: an object store's keys below the
// repository's prefix ("config", "keys/ID", "data/12/ID"…).
type Store interface {
	// Stat returns the size of the file at key, or an error that is ErrNoFile.
	Stat(ctx context.Context, key string) (int64, error)
	// Open reads length bytes of the file at key from offset (length 0: to its end).
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// List returns the files below prefix (which ends in "/"), recursively, with
	// their names relative to prefix.
	List(ctx context.Context, prefix string) ([]StoreFile, error)
	// Put stores the file at key.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Remove removes the file at key.
	Remove(ctx context.Context, key string) error
}

// StoreFile is a file a Store lists.
type StoreFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// ErrNoFile is a Store's error for a file that does not exist.
var ErrNoFile = errors.New("no such file")

// restTypes are the folders of a restic repository, as restic's REST protocol names
// them.
var restTypes = map[string]bool{"data": true, "keys": true, "locks": true, "snapshots": true, "index": true}

// restName is a file name of a repository: restic's IDs are hex.
var restName = regexp.MustCompile(`^[0-9a-f]{1,128}$`)

// restV2 is the media type of restic's REST protocol's second version (lists with sizes).
const restV2 = "application/vnd.x.restic.rest.v2"

// RESTServer serves a restic repository held in a Store over restic's REST protocol
// (restic's doc "REST Backend"), for restic's `rest:` backend in the same helper. It is
// read-only but for locks: a copy reads its source and holds a read lock there, and
// never writes, changes or deletes anything else in it.
type RESTServer struct {
	Store Store
	// User and Password are the HTTP basic credentials every request must carry (a
	// server on a loopback that a host-networked helper shares with its host).
	User, Password string
}

// ServeHTTP answers one request of restic's REST protocol.
func (s *RESTServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="restic"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "config":
		s.file(w, r, "config", false)
	case len(parts) == 1 && parts[0] == "" && r.Method == http.MethodPost:
		http.Error(w, "the source of a copy is never created here", http.StatusForbidden)
	case len(parts) == 2 && restTypes[parts[0]] && parts[1] == "":
		s.list(w, r, parts[0])
	case len(parts) == 2 && restTypes[parts[0]] && restName.MatchString(parts[1]):
		s.file(w, r, objectKey(parts[0], parts[1]), parts[0] == "locks")
	default:
		http.NotFound(w, r)
	}
}

func (s *RESTServer) authorized(r *http.Request) bool {
	if s.User == "" && s.Password == "" {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(s.Password)) == 1
}

// objectKey is where restic's S3 backend (its default layout) keeps a file: data
// files in a folder named by their first two characters.
func objectKey(typ, name string) string {
	if typ == "data" && len(name) >= 2 {
		return "data/" + name[:2] + "/" + name
	}
	return typ + "/" + name
}

// file answers HEAD, GET, POST and DELETE of one file; writable says whether POST and
// DELETE are allowed (locks only).
func (s *RESTServer) file(w http.ResponseWriter, r *http.Request, key string, writable bool) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodHead:
		size, err := s.Store.Stat(ctx, key)
		if err != nil {
			storeError(w, err)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		s.get(w, r, key)
	case http.MethodPost:
		if !writable {
			http.Error(w, "the source of a copy is read-only", http.StatusForbidden)
			return
		}
		if err := s.Store.Put(ctx, key, r.Body, r.ContentLength); err != nil {
			storeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		if !writable {
			http.Error(w, "the source of a copy is read-only", http.StatusForbidden)
			return
		}
		if err := s.Store.Remove(ctx, key); err != nil {
			storeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// get sends a file, or the range of it that the Range header asks for.
func (s *RESTServer) get(w http.ResponseWriter, r *http.Request, key string) {
	ctx := r.Context()
	size, err := s.Store.Stat(ctx, key)
	if err != nil {
		storeError(w, err)
		return
	}
	offset, length, partial, err := parseRange(r.Header.Get("Range"), size)
	if err != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		http.Error(w, err.Error(), http.StatusRequestedRangeNotSatisfiable)
		return
	}
	body, err := s.Store.Open(ctx, key, offset, length)
	if err != nil {
		storeError(w, err)
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	_, _ = io.CopyN(w, body, length)
}

// parseRange reads a Range header of one range ("bytes=A-B", "bytes=A-" or
// "bytes=-N") against a file of size bytes; no header is the whole file.
func parseRange(h string, size int64) (offset, length int64, partial bool, err error) {
	if h == "" {
		return 0, size, false, nil
	}
	spec, ok := strings.CutPrefix(h, "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !ok || !dash || strings.Contains(spec, ",") {
		return 0, 0, false, fmt.Errorf("unsupported range %q", h)
	}
	switch {
	case first == "":
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false, fmt.Errorf("bad range %q", h)
		}
		n = min(n, size)
		return size - n, n, true, nil
	default:
		a, err := strconv.ParseInt(first, 10, 64)
		if err != nil || a < 0 || a >= size {
			return 0, 0, false, fmt.Errorf("bad range %q", h)
		}
		b := size - 1
		if last != "" {
			if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
				return 0, 0, false, fmt.Errorf("bad range %q", h)
			}
			b = min(b, size-1)
		}
		return a, b - a + 1, true, nil
	}
}

// list answers GET of a folder: the names (protocol v1) or names and sizes (v2, what
// restic asks for) of its files.
func (s *RESTServer) list(w http.ResponseWriter, r *http.Request, typ string) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	files, err := s.Store.List(r.Context(), typ+"/")
	if err != nil {
		storeError(w, err)
		return
	}
	out := make([]StoreFile, 0, len(files))
	for _, f := range files {
		// data/12/1234…: the name is the last part.
		name := f.Name[strings.LastIndexByte(f.Name, '/')+1:]
		if restName.MatchString(name) {
			out = append(out, StoreFile{Name: name, Size: f.Size})
		}
	}
	var body any = out
	if strings.Contains(r.Header.Get("Accept"), restV2) {
		w.Header().Set("Content-Type", restV2)
	} else {
		names := make([]string, len(out))
		for i, f := range out {
			names[i] = f.Name
		}
		body = names
		w.Header().Set("Content-Type", "application/vnd.x.restic.rest.v1")
	}
	_ = json.NewEncoder(w).Encode(body)
}

// storeError answers a Store's failure: 404 for a missing file (restic then knows it
// does not exist), 500 for the rest.
func storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNoFile) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}
