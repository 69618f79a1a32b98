package exchange

import (
	"strings"
	"testing"
)

type testRecorder struct {
	sets   []string
	prints []string
}

func (r *testRecorder) VarSet(name string, v any, err error) {
	r.sets = append(r.sets, name+"="+Format(v)+map[bool]string{true: " (refused)", false: ""}[err != nil])
}
func (r *testRecorder) Print(policy, text string) { r.prints = append(r.prints, policy+": "+text) }

func TestRecorder(t *testing.T) {
	x := New()
	rec := &testRecorder{}
	x.Recorder = rec
	_ = x.Set("flow.a", 1)
	_ = x.Set("proxy.pathsuffix", "/x")
	x.SetSystem("route.name", "r") // engine writes are not policy writes
	x.Print("JS-1", "hello")
	want := []string{"flow.a=1", "proxy.pathsuffix=/x (refused)"}
	if strings.Join(rec.sets, "|") != strings.Join(want, "|") {
		t.Errorf("recorded sets = %q, want %q", rec.sets, want)
	}
	if len(rec.prints) != 1 || rec.prints[0] != "JS-1: hello" {
		t.Errorf("prints = %q", rec.prints)
	}
	New().Print("p", "no recorder: no panic")
}
