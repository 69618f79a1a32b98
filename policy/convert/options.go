package convert

import "strings"

// ToXMLOptions are JSONToXML's <Options>. The zero value is not ready to
// use: start from DefaultToXML, which fills the documented defaults.
type ToXMLOptions struct {
	// ObjectRootElementName wraps a top-level object that does not have
	// exactly one member. Default "Root".
	ObjectRootElementName string
	// ArrayRootElementName wraps a top-level array. Default "Array".
	ArrayRootElementName string
	// ArrayItemElementName names the items of a top-level array and of
	// arrays nested directly in arrays. Default "Item".
	ArrayItemElementName string
	// AttributePrefix marks members that become attributes ("@id" gives
	// id="..."). Default "": no member is an attribute by prefix.
	AttributePrefix string
	// AttributeBlockName names a member whose object members all become
	// attributes of the enclosing element. Default "": none.
	AttributeBlockName string
	// TextNodeName names a member that becomes the element's text. Default
	// "": none (every member is an element).
	TextNodeName string
	// NamespaceBlockName names a member holding namespace declarations
	// (prefix → URI; DefaultNamespaceNodeName → the default namespace).
	// Default "": namespaces are not processed.
	NamespaceBlockName string
	// DefaultNamespaceNodeName is the key of the default namespace in a
	// namespace block. Default "$default".
	DefaultNamespaceNodeName string
	// NamespaceSeparator separates prefix and local name in member names
	// ("ns1:b", or "ns1***b" with "***"). Default ":".
	NamespaceSeparator string
	// NullValue is the text of an element converted from JSON null.
	// Default "": an empty element. [?]
	NullValue string
	// InvalidCharsReplacement replaces each character that cannot appear
	// in an XML name. Default "_".
	InvalidCharsReplacement string
	// OmitXMLDeclaration drops <?xml version="1.0" encoding="UTF-8"?>.
	// Default false.
	OmitXMLDeclaration bool
	// Indent pretty-prints with four spaces per level. Default false.
	Indent bool
}

// DefaultToXML returns JSONToXML's default options.
func DefaultToXML() ToXMLOptions {
	return ToXMLOptions{
		ObjectRootElementName:    "Root",
		ArrayRootElementName:     "Array",
		ArrayItemElementName:     "Item",
		DefaultNamespaceNodeName: "$default",
		NamespaceSeparator:       ":",
		InvalidCharsReplacement:  "_",
	}
}

// ToJSONOptions are XMLToJSON's <Options> (or a <Format> preset). Start
// from DefaultToJSON or Preset.
type ToJSONOptions struct {
	// RecognizeNumber turns numeric text into JSON numbers. Default false.
	RecognizeNumber bool
	// RecognizeBoolean turns "true"/"false" into JSON booleans. Default
	// false.
	RecognizeBoolean bool
	// RecognizeNull turns empty elements (and text equal to NullValue when
	// that is set) into null. Default false: an empty element is {}.
	RecognizeNull bool
	// NullValue is text that reads as null when RecognizeNull is set.
	// Default "": only empty elements are null.
	NullValue string
	// TextNodeName names the text member of an element that also has
	// attributes or children. Default "$". [?]
	TextNodeName string
	// TextAlwaysAsProperty puts text under TextNodeName even in elements
	// with nothing else. Default false: <a>x</a> is "a":"x".
	TextAlwaysAsProperty bool
	// AttributePrefix is prepended to attribute names. Default "".
	AttributePrefix string
	// AttributeBlockName groups attributes in one object member. Default
	// "": attributes are members of the element's object.
	AttributeBlockName string
	// NamespaceBlockName groups namespace declarations in one member.
	// Default "": declarations are dropped.
	NamespaceBlockName string
	// DefaultNamespaceNodeName is the key of the default namespace in the
	// namespace block. Default "$default". [?]
	DefaultNamespaceNodeName string
	// NamespaceSeparator joins prefix and local name in member names.
	// Default ":".
	NamespaceSeparator string
	// OutputPrefix and OutputSuffix wrap the JSON text. Default "".
	OutputPrefix, OutputSuffix string
	// StripLevels removes that many outer single-member levels. Default 0.
	StripLevels int
	// TreatAsArray lists element paths always converted to arrays.
	TreatAsArray []ArrayPath
	// Indent pretty-prints with two spaces per level. Default false.
	Indent bool
}

// ArrayPath is one <TreatAsArray><Path>: slash-separated element names
// from the root element ("teachers/teacher/name"). Unwrap replaces the
// parent's object by the array itself.
type ArrayPath struct {
	Path   string
	Unwrap bool
}

// DefaultToJSON returns XMLToJSON's default options.
func DefaultToJSON() ToJSONOptions {
	return ToJSONOptions{
		TextNodeName:             "$",
		DefaultNamespaceNodeName: "$default",
		NamespaceSeparator:       ":",
	}
}

// Preset returns the options of an XMLToJSON <Format>: "xml.com",
// "yahoo", "google" or "badgerFish" (case-insensitive), as Apigee
// documents them; ok is false for another name.
func Preset(format string) (o ToJSONOptions, ok bool) {
	o = DefaultToJSON()
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "xml.com":
		o.RecognizeNull, o.TextNodeName, o.AttributePrefix = true, "#text", "@"
	case "yahoo":
		o.RecognizeNumber, o.TextNodeName = true, "content"
	case "google":
		o.TextNodeName, o.NamespaceSeparator, o.TextAlwaysAsProperty = "$t", "$", true
	case "badgerfish":
		o.TextNodeName, o.TextAlwaysAsProperty, o.AttributePrefix = "$", true, "@"
		o.NamespaceSeparator, o.NamespaceBlockName, o.DefaultNamespaceNodeName = ":", "@xmlns", "$"
	default:
		return o, false
	}
	return o, true
}
