package policy

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/convert"
)

func init() { Register("XMLToJSON", "xmltojson", buildXMLToJSON) }

// XMLToJSON is a built <XMLToJSON> policy: it converts an XML message (or
// string variable) to JSON with package convert. It shares Source,
// OutputVariable and fault handling with JSONToXML (Conversion).
type XMLToJSON struct {
	Conversion
	// Options are the effective options: the <Format> preset, if any,
	// overridden by <Options>.
	Options convert.ToJSONOptions
}

func buildXMLToJSON(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	j := &XMLToJSON{Options: convert.DefaultToJSON()}
	j.Conversion = newConversion(p, "XMLToJSON", "xml2json", "application/json", isXMLType)
	format := p.Element.SelectElement("Format")
	if format != nil {
		o, ok := convert.Preset(format.Text())
		if !ok {
			bc.Problems.Errorf(p.Doc.TextPos(format), "<Format> %q is not one of xml.com, yahoo, google, badgerFish",
				strings.TrimSpace(format.Text()))
		}
		j.Options = o
	}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Source", "OutputVariable", "Format", "DisplayName", "Description", "Properties", "FaultRules":
		case "Options":
			if format != nil && len(el.ChildElements()) > 0 {
				bc.Problems.Warnf(p.Doc.Pos(el), "<XMLToJSON> has both <Format> and <Options>; the options override the format")
			}
			compileToJSONOptions(bc, p, el, &j.Options)
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <XMLToJSON>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	j.convertF = convert.NewToJSON(j.Options).Convert
	return j
}

func compileToJSONOptions(bc *BuildContext, p *bundle.Policy, opts *etree.Element, o *convert.ToJSONOptions) {
	strs := map[string]*string{
		"NullValue": &o.NullValue, "TextNodeName": &o.TextNodeName, "AttributePrefix": &o.AttributePrefix,
		"AttributeBlockName": &o.AttributeBlockName, "NamespaceBlockName": &o.NamespaceBlockName,
		"DefaultNamespaceNodeName": &o.DefaultNamespaceNodeName, "NamespaceSeparator": &o.NamespaceSeparator,
		"OutputPrefix": &o.OutputPrefix, "OutputSuffix": &o.OutputSuffix,
	}
	bools := map[string]*bool{
		"RecognizeNumber": &o.RecognizeNumber, "RecognizeBoolean": &o.RecognizeBoolean,
		"RecognizeNull": &o.RecognizeNull, "TextAlwaysAsProperty": &o.TextAlwaysAsProperty, "Indent": &o.Indent,
	}
	for _, el := range opts.ChildElements() {
		switch s, isStr := strs[el.Tag]; {
		case isStr:
			*s = el.Text()
		case bools[el.Tag] != nil:
			*bools[el.Tag] = boolText(bc, p.Doc, el)
		case el.Tag == "StripLevels":
			o.StripLevels = intText(bc, p.Doc, el)
		case el.Tag == "TreatAsArray":
			o.TreatAsArray = append(o.TreatAsArray, treatAsArray(bc, p, el)...)
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown option <%s> in <XMLToJSON>, ignored", el.Tag)
		}
	}
}

func treatAsArray(bc *BuildContext, p *bundle.Policy, el *etree.Element) []convert.ArrayPath {
	var out []convert.ArrayPath
	for _, path := range el.ChildElements() {
		if path.Tag != "Path" {
			bc.Problems.Warnf(p.Doc.Pos(path), "unknown element <%s> in <TreatAsArray>, ignored", path.Tag)
			continue
		}
		ap := convert.ArrayPath{Path: strings.TrimSpace(path.Text())}
		if a := path.SelectAttr("unwrap"); a != nil {
			ap.Unwrap = parseBoolAttr(bc, p, path, a)
		}
		if ap.Path == "" {
			bc.Problems.Errorf(p.Doc.Pos(path), "<Path> in <TreatAsArray> is empty")
			continue
		}
		out = append(out, ap)
	}
	return out
}

func isXMLType(mt string) bool {
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}
