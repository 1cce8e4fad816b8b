// Package arch holds no code: its test checks the import rules between docker-backup's
// packages that docs/architecture.md describes.
package arch
