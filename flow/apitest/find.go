package apitest

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Suffix names test files.
const Suffix = ".test.yaml"

// Find lists the test files paths name: a file as is, a folder searched
// recursively for *.test.yaml (skipping hidden folders), sorted. A path
// that cannot be read gives a FileError.
func Find(paths []string) ([]string, []*FileError) {
	var files []string
	var errs []*FileError
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &FileError{Path: p, Problems: []Problem{{Msg: "cannot read: " + unwrapPath(err)}}})
			continue
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && path != p && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			case !d.IsDir() && strings.HasSuffix(d.Name(), Suffix):
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, &FileError{Path: p, Problems: []Problem{{Msg: "cannot read: " + unwrapPath(err)}}})
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	return files, errs
}
