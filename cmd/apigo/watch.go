package main

import (
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"
)

// watchInterval is how often --watch looks for changes. Polling keeps
// apigo free of platform-specific notification code; a scan of a bundle
// tree costs well under a millisecond.
var watchInterval = 300 * time.Millisecond

// watchLoop calls rebuild whenever the files under paths change.
func watchLoop(paths []string, stop <-chan struct{}, rebuild func()) {
	last := treeStamp(paths)
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s := treeStamp(paths)
		if s == last {
			continue
		}
		// Let an editor finish writing before rebuilding.
		time.Sleep(watchInterval / 2)
		last = treeStamp(paths)
		rebuild()
	}
}

// treeStamp hashes every file's name, size and modification time.
func treeStamp(paths []string) uint64 {
	h := fnv.New64a()
	for _, root := range paths {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if n := d.Name(); p != root && (n == ".git" || n == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			h.Write([]byte(p))
			h.Write([]byte(strconv.FormatInt(info.Size(), 10)))
			h.Write([]byte(strconv.FormatInt(info.ModTime().UnixNano(), 10)))
			return nil
		})
	}
	return h.Sum64()
}
