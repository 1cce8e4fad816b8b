package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Location is a restic s3: repository address, read as restic reads it:
// s3:https://host[:port]/bucket[/prefix], s3:http://… (no TLS), or
// s3:host[:port]/bucket[/prefix] (TLS).
type S3Location struct {
	Endpoint string
	Secure   bool
	Bucket   string
	// Prefix is the repository's folder in the bucket, "" or ending in "/".
	Prefix string
}

// ParseS3 reads a restic s3: repository address.
func ParseS3(repo string) (S3Location, error) {
	rest, ok := strings.CutPrefix(repo, "s3:")
	if !ok {
		return S3Location{}, errors.New("not an s3: repository")
	}
	loc := S3Location{Secure: true}
	switch {
	case strings.HasPrefix(rest, "https://"):
		rest = strings.TrimPrefix(rest, "https://")
	case strings.HasPrefix(rest, "http://"):
		rest, loc.Secure = strings.TrimPrefix(rest, "http://"), false
	}
	parts := strings.SplitN(strings.Trim(rest, "/"), "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return S3Location{}, errors.New("an s3: repository needs an endpoint and a bucket (s3:HOST/BUCKET[/PREFIX])")
	}
	loc.Endpoint, loc.Bucket = parts[0], parts[1]
	if len(parts) == 3 && strings.Trim(parts[2], "/") != "" {
		loc.Prefix = strings.Trim(parts[2], "/") + "/"
	}
	return loc, nil
}

// S3Store is a repository's files in an S3 bucket, with credentials of its own.
type S3Store struct {
	client *minio.Core
	loc    S3Location
}

// NewS3Store connects to the repository at loc with the backend settings of env,
// which are restic's: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_DEFAULT_REGION (or AWS_REGION). Without keys it reads anonymously.
func NewS3Store(loc S3Location, env map[string]string) (*S3Store, error) {
	region := env["AWS_DEFAULT_REGION"]
	if region == "" {
		region = env["AWS_REGION"]
	}
	var creds *credentials.Credentials
	if env["AWS_ACCESS_KEY_ID"] != "" {
		creds = credentials.NewStaticV4(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"])
	} else {
		creds = credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
	}
	c, err := minio.NewCore(loc.Endpoint, &minio.Options{Creds: creds, Secure: loc.Secure, Region: region})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", loc.Endpoint, err)
	}
	return &S3Store{client: c, loc: loc}, nil
}

func (s *S3Store) object(key string) string { return s.loc.Prefix + key }

// Stat implements Store.
func (s *S3Store) Stat(ctx context.Context, key string) (int64, error) {
	info, err := s.client.Client.StatObject(ctx, s.loc.Bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, s3Error(key, err)
	}
	return info.Size, nil
}

// Open implements Store.
func (s *S3Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{}
	if offset > 0 || length > 0 {
		end := int64(0)
		if length > 0 {
			end = offset + length - 1
		}
		if err := opts.SetRange(offset, end); err != nil {
			return nil, fmt.Errorf("reading %s: %w", key, err)
		}
	}
	body, _, _, err := s.client.GetObject(ctx, s.loc.Bucket, s.object(key), opts)
	if err != nil {
		return nil, s3Error(key, err)
	}
	return body, nil
}

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix string) ([]StoreFile, error) {
	var files []StoreFile
	for o := range s.client.Client.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: s.object(prefix), Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("listing %s: %w", prefix, o.Err)
		}
		files = append(files, StoreFile{Name: strings.TrimPrefix(o.Key, s.object(prefix)), Size: o.Size})
	}
	return files, nil
}

// Put implements Store.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if _, err := s.client.Client.PutObject(ctx, s.loc.Bucket, s.object(key), r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return nil
}

// Remove implements Store.
func (s *S3Store) Remove(ctx context.Context, key string) error {
	if err := s.client.Client.RemoveObject(ctx, s.loc.Bucket, s.object(key), minio.RemoveObjectOptions{}); err != nil {
		return s3Error(key, err)
	}
	return nil
}

// s3Error is ErrNoFile for a missing object, else err with the key.
func s3Error(key string, err error) error {
	r := minio.ToErrorResponse(err)
	if r.StatusCode == http.StatusNotFound || r.Code == minio.NoSuchKey {
		return fmt.Errorf("%s: %w", key, ErrNoFile)
	}
	return fmt.Errorf("reading %s: %w", key, err)
}
