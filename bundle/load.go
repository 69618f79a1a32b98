package bundle

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Options tune Load.
type Options struct {
	// Env names the environment folder of a workspace to use. Default "":
	// the only environment folder, or none; with several it is an error.
	Env string
}

// loader accumulates one Load call.
type loader struct {
	opts   Options
	ps     *Problems
	set    *Set
	envSrc string // display path of the workspace that gave Set.Env
}

// Load reads every path into one Set. A path is a bundle folder holding
// apiproxy/ or sharedflowbundle/, that folder itself, a .zip of one, or an
// Apigee Emulator workspace: a folder holding src/main/apigee/, or that
// apigee folder itself. Problems are collected (loading never stops at the
// first), sorted, with file paths relative to the path given (inside a zip:
// "x.zip!apiproxy/proxies/default.xml"). The Set is never nil: it holds as
// much as could be loaded.
func Load(paths []string, opts Options) (*Set, *Problems) {
	l := &loader{opts: opts, ps: &Problems{}, set: &Set{Env: &Environment{Name: opts.Env,
		TargetServers: map[string]*TargetServer{}, FlowHooks: map[string]*FlowHook{}, Files: map[string][]byte{}}}}
	for _, p := range paths {
		l.loadPath(p)
	}
	checkSet(l.set, l.ps)
	l.ps.Sort()
	return l.set, l.ps
}

func (l *loader) loadPath(p string) {
	st, err := os.Stat(p)
	if err != nil {
		l.ps.Errorf(Pos{File: p}, "cannot read: %v", unwrapPathError(err))
		return
	}
	if !st.IsDir() {
		l.loadZip(p)
		return
	}
	s := source{fsys: os.DirFS(p), prefix: filepath.ToSlash(filepath.Clean(p))}
	abs, _ := filepath.Abs(p)
	if !l.loadTree(s, ".", filepath.Base(abs), filepath.Base(filepath.Dir(abs))) {
		l.ps.Errorf(Pos{File: s.prefix}, "not a bundle or workspace: no apiproxy/, sharedflowbundle/ or src/main/apigee/ folder")
	}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func (l *loader) loadZip(p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		l.ps.Errorf(Pos{File: p}, "cannot read: %v", unwrapPathError(err))
		return
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		l.ps.Errorf(Pos{File: p}, "not a bundle folder, and not a zip: %v", err)
		return
	}
	s := source{fsys: zr, prefix: filepath.ToSlash(p), zip: true}
	name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
	if l.loadTree(s, ".", name, name) {
		return
	}
	// A zip of a folder holds that folder at its root.
	if dirs := envNames(s, "."); len(dirs) == 1 && l.loadTree(s, dirs[0], dirs[0], name) {
		return
	}
	l.ps.Errorf(Pos{File: s.prefix}, "not a bundle or workspace: no apiproxy/, sharedflowbundle/ or src/main/apigee/ folder")
}

// loadTree loads dir of s if it is a bundle, a bundle's parent or a
// workspace; false if it is none. dirName is dir's own name, parentName
// the name of the folder above it.
func (l *loader) loadTree(s source, dir, dirName, parentName string) bool {
	switch {
	case dirName == "apiproxy":
		l.addBundle(readBundle(s, dir, KindProxy, parentName, l.ps))
		return true
	case dirName == "sharedflowbundle":
		l.addBundle(readBundle(s, dir, KindSharedFlow, parentName, l.ps))
		return true
	case s.isDir(path.Join(dir, "src/main/apigee")):
		l.loadWorkspace(s, path.Join(dir, "src/main/apigee"))
		return true
	case s.isDir(path.Join(dir, "apiproxies")) || s.isDir(path.Join(dir, "environments")):
		l.loadWorkspace(s, dir)
		return true
	}
	found := false
	if s.isDir(path.Join(dir, "apiproxy")) {
		l.addBundle(readBundle(s, path.Join(dir, "apiproxy"), KindProxy, dirName, l.ps))
		found = true
	}
	if s.isDir(path.Join(dir, "sharedflowbundle")) {
		l.addBundle(readBundle(s, path.Join(dir, "sharedflowbundle"), KindSharedFlow, dirName, l.ps))
		found = true
	}
	return found
}

func (l *loader) addBundle(b *Bundle) {
	checkBundle(b, l.ps)
	if b.Kind == KindProxy {
		l.set.Proxies = append(l.set.Proxies, b)
	} else {
		l.set.SharedFlows = append(l.set.SharedFlows, b)
	}
}

// loadWorkspace reads src/main/apigee (dir): the selected environment, then
// the bundles it deploys.
func (l *loader) loadWorkspace(s source, dir string) {
	var dep *deploymentEntries
	envDir := path.Join(dir, "environments")
	if name, ok := l.pickEnv(s, envDir); ok {
		if l.envSrc != "" {
			l.ps.Errorf(s.filePos(path.Join(envDir, name)), "a second workspace environment; already using %s", l.envSrc)
		} else {
			l.set.Env, dep = readEnvironment(s, path.Join(envDir, name), name, l.ps)
			l.envSrc = l.set.Env.Dir
		}
	}
	l.loadFolder(s, path.Join(dir, "apiproxies"), "apiproxy", KindProxy, depList(dep, true))
	l.loadFolder(s, path.Join(dir, "sharedflows"), "sharedflowbundle", KindSharedFlow, depList(dep, false))
}

func depList(dep *deploymentEntries, proxies bool) map[string]Pos {
	switch {
	case dep == nil:
		return nil
	case proxies:
		return dep.proxies
	}
	return dep.sharedFlows
}

// pickEnv selects the environment folder to use, by Options.Env or because
// it is the only one.
func (l *loader) pickEnv(s source, envDir string) (string, bool) {
	names := envNames(s, envDir)
	switch {
	case l.opts.Env != "" && contains(names, l.opts.Env):
		return l.opts.Env, true
	case l.opts.Env != "":
		l.ps.Errorf(Pos{File: s.display(envDir)}, "environment %q not found (have: %s)", l.opts.Env, strings.Join(names, ", "))
	case len(names) == 1:
		return names[0], true
	case len(names) > 1:
		l.ps.Errorf(Pos{File: s.display(envDir)}, "several environments (%s): choose one with --env", strings.Join(names, ", "))
	}
	return "", false
}

// loadFolder loads <dir>/<name>/<inner> bundles; with deployed non-nil only
// the names it lists, and a listed name without a folder is an error at
// its deployments.json entry.
func (l *loader) loadFolder(s source, dir, inner string, kind Kind, deployed map[string]Pos) {
	names := envNames(s, dir)
	for _, n := range names {
		if _, ok := deployed[n]; deployed != nil && !ok {
			continue
		}
		if !s.isDir(path.Join(dir, n, inner)) {
			l.ps.Warnf(Pos{File: s.display(path.Join(dir, n))}, "no %s/ folder; skipped", inner)
			continue
		}
		b := readBundle(s, path.Join(dir, n, inner), kind, n, l.ps)
		if b.Name != n {
			l.ps.Warnf(b.manifest, "manifest names the bundle %q; the workspace folder name %q is used", b.Name, n)
			b.Name = n
		}
		l.addBundle(b)
	}
	for n, p := range deployed {
		if !contains(names, n) {
			l.ps.Errorf(p, "deployments.json lists %q, but there is no %s", n, s.display(path.Join(dir, n, inner)))
		}
	}
}
