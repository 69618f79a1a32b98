package bundle

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/beevik/etree"
)

// source is one file tree the user named: a folder on disk or a zip.
type source struct {
	fsys   fs.FS
	prefix string // display path of the tree's root, as the user gave it
	zip    bool
}

// display is how a path inside the tree is shown in problems.
func (s source) display(rel string) string {
	switch {
	case s.zip && (rel == "." || rel == ""):
		return s.prefix
	case s.zip:
		return s.prefix + "!" + rel
	}
	return path.Join(s.prefix, rel)
}

// filePos is the position problems about a whole file use.
func (s source) filePos(rel string) Pos { return Pos{File: s.display(rel), Line: 1, Col: 1} }

// readXML reads and parses one file; nil on any problem (recorded).
func (s source) readXML(rel string, ps *Problems) *Doc {
	data, err := fs.ReadFile(s.fsys, rel)
	if err != nil {
		ps.Errorf(s.filePos(rel), "cannot read: %v", err)
		return nil
	}
	return parseXML(s.display(rel), data, ps)
}

// xmlFiles lists the .xml files of dir, sorted; nil when dir is absent.
func (s source) xmlFiles(dir string) []string {
	entries, err := fs.ReadDir(s.fsys, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(path.Ext(e.Name()), ".xml") {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

func (s source) isDir(rel string) bool {
	st, err := fs.Stat(s.fsys, rel)
	return err == nil && st.IsDir()
}

func baseName(file string) string {
	b := path.Base(file)
	return strings.TrimSuffix(b, path.Ext(b))
}

// readBundle reads the bundle folder dir (an apiproxy/ or sharedflowbundle/)
// of s. defName names the bundle when its manifest does not.
func readBundle(s source, dir string, kind Kind, defName string, ps *Problems) *Bundle {
	b := &Bundle{Kind: kind, Name: defName, Revision: "1", Base: s.display(dir),
		Policies: map[string]*Policy{}, Resources: map[string][]byte{}, PropertySets: map[string]map[string]string{}}
	readManifest(s, dir, b, ps)
	for _, f := range s.xmlFiles(path.Join(dir, "policies")) {
		readPolicy(s, f, b, ps)
	}
	if kind == KindProxy {
		readEndpoints(s, dir, b, ps)
	} else {
		readSharedFlows(s, dir, b, ps)
	}
	readResources(s, dir, b, ps)
	return b
}

func readManifest(s source, dir string, b *Bundle, ps *Problems) {
	want := "APIProxy"
	if b.Kind == KindSharedFlow {
		want = "SharedFlowBundle"
	}
	files := s.xmlFiles(dir)
	if len(files) > 1 {
		ps.Warnf(s.filePos(files[1]), "more than one manifest in %s; using %s", b.Base, path.Base(files[0]))
	}
	if len(files) == 0 {
		return
	}
	d := s.readXML(files[0], ps)
	if d == nil {
		return
	}
	root := d.Tree.Root()
	if root.Tag != want {
		ps.Warnf(d.Pos(root), "manifest root is <%s>, want <%s>", root.Tag, want)
		return
	}
	b.manifest = d.Pos(root)
	if n := root.SelectAttrValue("name", ""); n != "" {
		b.Name = n
	}
	if r := root.SelectAttrValue("revision", ""); r != "" {
		b.Revision = r
	}
}

func readPolicy(s source, file string, b *Bundle, ps *Problems) {
	d := s.readXML(file, ps)
	if d == nil {
		return
	}
	root := d.Tree.Root()
	r := xmlReader{d, ps}
	p := &Policy{Name: root.SelectAttrValue("name", ""), Type: root.Tag, Enabled: true,
		File: d.File, Pos: d.Pos(root), Element: root, Doc: d}
	if p.Name == "" {
		p.Name = baseName(file)
		ps.Warnf(p.Pos, "policy has no name attribute; using the file name %q", p.Name)
	} else if bn := baseName(file); bn != p.Name {
		// Steps name policies by the attribute, so this works, but Apigee's
		// tools expect the two to agree (apigeelint PO006).
		ps.Warnf(p.Pos, "policy name %q differs from its file name %q; steps must use %q", p.Name, bn+".xml", p.Name)
	}
	p.Enabled = r.boolAttr(root, "enabled", true)
	p.ContinueOnError = r.boolAttr(root, "continueOnError", false)
	p.DisplayName = r.text(root.SelectElement("DisplayName"))
	if old, dup := b.Policies[p.Name]; dup {
		ps.Errorf(p.Pos, "duplicate policy name %q (also in %s)", p.Name, old.Pos)
		return
	}
	b.Policies[p.Name] = p
}

func (r xmlReader) boolAttr(e *etree.Element, name string, def bool) bool {
	a := e.SelectAttr(name)
	if a == nil {
		return def
	}
	v, ok := parseBool(a.Value)
	if !ok {
		r.ps.Errorf(r.d.Pos(e), "attribute %s must be true or false, not %q", name, a.Value)
		return def
	}
	return v
}

func readEndpoints(s source, dir string, b *Bundle, ps *Problems) {
	proxies := s.xmlFiles(path.Join(dir, "proxies"))
	if len(proxies) == 0 {
		ps.Warnf(bundleFilePos(b), "proxy %q has no ProxyEndpoint (apiproxy/proxies/*.xml): it serves nothing", b.Name)
	}
	for _, f := range proxies {
		d := s.readXML(f, ps)
		if d == nil {
			continue
		}
		if root := d.Tree.Root(); root.Tag != "ProxyEndpoint" {
			ps.Errorf(d.Pos(root), "root element is <%s>, want <ProxyEndpoint>", root.Tag)
		} else {
			b.ProxyEndpoints = append(b.ProxyEndpoints, xmlReader{d, ps}.proxyEndpoint(root, baseName(f)))
		}
	}
	for _, f := range s.xmlFiles(path.Join(dir, "targets")) {
		d := s.readXML(f, ps)
		if d == nil {
			continue
		}
		if root := d.Tree.Root(); root.Tag != "TargetEndpoint" {
			ps.Errorf(d.Pos(root), "root element is <%s>, want <TargetEndpoint>", root.Tag)
		} else {
			b.TargetEndpoints = append(b.TargetEndpoints, xmlReader{d, ps}.targetEndpoint(root, baseName(f)))
		}
	}
	sortEndpoints(b, ps)
}

func sortEndpoints(b *Bundle, ps *Problems) {
	sort.SliceStable(b.ProxyEndpoints, func(i, j int) bool { return b.ProxyEndpoints[i].Name < b.ProxyEndpoints[j].Name })
	sort.SliceStable(b.TargetEndpoints, func(i, j int) bool { return b.TargetEndpoints[i].Name < b.TargetEndpoints[j].Name })
	b.ProxyEndpoints = dropDuplicates(b.ProxyEndpoints, func(e *ProxyEndpoint) *Endpoint { return &e.Endpoint }, "ProxyEndpoint", ps)
	b.TargetEndpoints = dropDuplicates(b.TargetEndpoints, func(e *TargetEndpoint) *Endpoint { return &e.Endpoint }, "TargetEndpoint", ps)
}

// dropDuplicates reports and removes same-named endpoints of a sorted list.
func dropDuplicates[T any](list []T, ep func(T) *Endpoint, what string, ps *Problems) []T {
	out := list[:0]
	for i, x := range list {
		if i > 0 && ep(x).Name == ep(list[i-1]).Name {
			ps.Errorf(ep(x).Pos, "duplicate %s name %q (also in %s)", what, ep(x).Name, ep(list[i-1]).Pos)
			continue
		}
		out = append(out, x)
	}
	return out
}

func readSharedFlows(s source, dir string, b *Bundle, ps *Problems) {
	seen := map[string]*SharedFlow{}
	files := s.xmlFiles(path.Join(dir, "sharedflows"))
	if len(files) == 0 {
		ps.Warnf(bundleFilePos(b), "shared flow %q has no SharedFlow (sharedflowbundle/sharedflows/*.xml)", b.Name)
	}
	for _, f := range files {
		d := s.readXML(f, ps)
		if d == nil {
			continue
		}
		root := d.Tree.Root()
		if root.Tag != "SharedFlow" {
			ps.Errorf(d.Pos(root), "root element is <%s>, want <SharedFlow>", root.Tag)
			continue
		}
		sf := &SharedFlow{Name: root.SelectAttrValue("name", ""), File: d.File, Pos: d.Pos(root)}
		if sf.Name == "" {
			sf.Name = baseName(f)
			ps.Warnf(sf.Pos, "<SharedFlow> has no name attribute; using the file name %q", sf.Name)
		}
		sf.Steps = xmlReader{d, ps}.steps(root, "Description")
		if old := seen[sf.Name]; old != nil {
			ps.Errorf(sf.Pos, "duplicate SharedFlow name %q (also in %s)", sf.Name, old.Pos)
			continue
		}
		seen[sf.Name] = sf
		b.SharedFlows = append(b.SharedFlows, sf)
	}
	sort.Slice(b.SharedFlows, func(i, j int) bool { return b.SharedFlows[i].Name < b.SharedFlows[j].Name })
}

// readResources maps resources/<type>/<file> to "<type>://<file>" and parses
// property sets.
func readResources(s source, dir string, b *Bundle, ps *Problems) {
	root := path.Join(dir, "resources")
	if !s.isDir(root) {
		return
	}
	_ = fs.WalkDir(s.fsys, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			ps.Errorf(s.filePos(p), "cannot read: %v", err)
			return nil
		}
		if e.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(p, root+"/")
		typ, file, ok := strings.Cut(rel, "/")
		if !ok {
			ps.Warnf(s.filePos(p), "resource outside a resources/<type>/ folder is ignored")
			return nil
		}
		data, rerr := fs.ReadFile(s.fsys, p)
		if rerr != nil {
			ps.Errorf(s.filePos(p), "cannot read: %v", rerr)
			return nil
		}
		b.Resources[typ+"://"+file] = data
		if typ == "properties" && strings.HasSuffix(file, ".properties") {
			b.PropertySets[strings.TrimSuffix(file, ".properties")] = parseProperties(data)
		}
		return nil
	})
}
