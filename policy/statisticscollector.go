package policy

import (
	"context"
	"strconv"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("StatisticsCollector", "statisticscollector", buildStatisticsCollector) }

// StatisticsCollector is a built <StatisticsCollector> policy. apigo has no
// analytics: each statistic is printed to the exchange's trace as
// "statistic <name>=<value>". The value is the ref variable's, or the
// element's text (the default) when the variable is unset; a value that
// does not convert to the statistic's type falls back to the default, and
// a statistic with neither is not recorded. The value of a private.
// variable is shown as "*****".
type StatisticsCollector struct {
	Name       string
	Statistics []Statistic
}

// Statistic is one <Statistic name ref type>default</Statistic>.
type Statistic struct {
	Name, Ref, Type, Default string
}

var statisticTypes = map[string]bool{"string": true, "integer": true, "float": true, "long": true, "double": true, "boolean": true}

func buildStatisticsCollector(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	sc := &StatisticsCollector{Name: p.Name}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Statistics":
			for _, st := range el.ChildElements() {
				if st.Tag != "Statistic" {
					bc.Problems.Warnf(p.Doc.Pos(st), "unknown element <%s> in <Statistics>, ignored", st.Tag)
					continue
				}
				s := Statistic{Name: strings.TrimSpace(st.SelectAttrValue("name", "")), Ref: strings.TrimSpace(st.SelectAttrValue("ref", "")),
					Type: strings.ToLower(strings.TrimSpace(st.SelectAttrValue("type", "string"))), Default: strings.TrimSpace(st.Text())}
				if s.Name == "" {
					bc.Problems.Errorf(p.Doc.Pos(st), "<Statistic> needs a name")
				}
				if !statisticTypes[s.Type] {
					bc.Problems.Errorf(p.Doc.Pos(st), "<Statistic> type %q is not string, integer, float, long, double or boolean", s.Type)
				}
				sc.Statistics = append(sc.Statistics, s)
			}
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <StatisticsCollector>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return sc
}

// Execute records the statistics in the trace.
func (sc *StatisticsCollector) Execute(_ context.Context, x *exchange.Exchange) error {
	for _, s := range sc.Statistics {
		v, ok := s.value(x)
		if !ok {
			continue
		}
		if exchange.IsPrivate(s.Ref) {
			v = "*****"
		}
		x.Print(sc.Name, "statistic "+s.Name+"="+v)
	}
	return nil
}

// value is the statistic's text, converted to its type.
func (s *Statistic) value(x *exchange.Exchange) (string, bool) {
	if s.Ref != "" {
		if v, ok := x.Lookup(s.Ref); ok {
			if t, ok := statisticValue(template.Format(v), s.Type); ok {
				return t, true
			}
		}
	}
	if s.Default == "" {
		return "", false
	}
	return statisticValue(s.Default, s.Type)
}

func statisticValue(v, typ string) (string, bool) {
	var err error
	switch typ {
	case "integer":
		_, err = strconv.ParseInt(v, 10, 32)
	case "long":
		_, err = strconv.ParseInt(v, 10, 64)
	case "float":
		_, err = strconv.ParseFloat(v, 32)
	case "double":
		_, err = strconv.ParseFloat(v, 64)
	case "boolean":
		_, err = strconv.ParseBool(v)
	}
	return v, err == nil
}
