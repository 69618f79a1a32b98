package policy

import (
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

// statPrints keeps what policies print.
type statPrints struct{ lines []string }

func (r *statPrints) VarSet(string, any, error) {}
func (r *statPrints) Print(policy, text string) { r.lines = append(r.lines, policy+": "+text) }

func TestStatisticsCollector(t *testing.T) {
	pol := mustBuild(t, `<StatisticsCollector name="SC"><Statistics>
		<Statistic name="product" ref="product.name" type="string">none</Statistic>
		<Statistic name="price" ref="price" type="float">0</Statistic>
		<Statistic name="count" ref="count" type="integer">-1</Statistic>
		<Statistic name="flag" ref="flag" type="boolean"/>
		<Statistic name="token" ref="private.token" type="string"/>
	</Statistics></StatisticsCollector>`, nil)
	tests := []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"values from refs", map[string]any{"product.name": "shoes", "price": 9.5, "count": 3, "flag": "true", "private.token": "s3cret"},
			[]string{"SC: statistic product=shoes", "SC: statistic price=9.5", "SC: statistic count=3", "SC: statistic flag=true", "SC: statistic token=*****"}},
		{"defaults when unset; none without default", nil,
			[]string{"SC: statistic product=none", "SC: statistic price=0", "SC: statistic count=-1"}},
		{"a value of the wrong type falls back to the default", map[string]any{"count": "many", "flag": "maybe"},
			[]string{"SC: statistic product=none", "SC: statistic price=0", "SC: statistic count=-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange.New()
			rec := &statPrints{}
			for k, v := range tt.vars {
				x.Set(k, v)
			}
			x.Recorder = rec
			if err := execute(t, pol, x); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(rec.lines, "|"), strings.Join(tt.want, "|"); got != want {
				t.Errorf("printed %q, want %q", got, want)
			}
		})
	}
}

func TestStatisticsCollectorBuildProblems(t *testing.T) {
	for _, tt := range []struct{ xml, want string }{
		{`<StatisticsCollector name="SC"><Statistics><Statistic ref="a"/></Statistics></StatisticsCollector>`, "needs a name"},
		{`<StatisticsCollector name="SC"><Statistics><Statistic name="a" type="money"/></Statistics></StatisticsCollector>`, `type "money"`},
	} {
		pol, ps := buildXML(t, tt.xml, nil)
		if pol != nil || !strings.Contains(ps.String(), tt.want) {
			t.Errorf("build(%s) = %v, %q; want nil and %q", tt.xml, pol, ps.String(), tt.want)
		}
	}
}
