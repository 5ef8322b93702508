//go:build tools

// Package tools pins the MinIO server this module builds.
package tools

import _ "github.com/minio/minio"
