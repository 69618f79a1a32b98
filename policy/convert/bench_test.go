package convert

import (
	"fmt"
	"strings"
	"testing"
)

// tenKB builds a ~10 KB order document in both formats.
func tenKB() (xmlDoc, jsonDoc string) {
	var x, j strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?><orders xmlns:p="urn:p">`)
	j.WriteString(`{"orders":{"order":[`)
	for i := 0; x.Len() < 10*1024; i++ {
		fmt.Fprintf(&x, `<order id="%d"><p:customer>Customer %d</p:customer><total>%d.50</total><paid>true</paid>`+
			`<items><item sku="s%d">2</item><item sku="t%d">1</item></items></order>`, i, i, i*3, i, i)
		if i > 0 {
			j.WriteByte(',')
		}
		fmt.Fprintf(&j, `{"@id":"%d","customer":"Customer %d","total":%d.50,"paid":true,"items":{"item":[{"@sku":"s%d","#text":2},{"@sku":"t%d","#text":1}]}}`,
			i, i, i*3, i, i)
	}
	x.WriteString(`</orders>`)
	j.WriteString(`]}}`)
	return x.String(), j.String()
}

func BenchmarkXMLToJSON10KB(b *testing.B) {
	doc, _ := tenKB()
	o, _ := Preset("badgerFish")
	o.RecognizeNumber, o.RecognizeBoolean = true, true
	c := NewToJSON(o)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Convert([]byte(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONToXML10KB(b *testing.B) {
	_, doc := tenKB()
	o := DefaultToXML()
	o.AttributePrefix, o.TextNodeName = "@", "#text"
	c := NewToXML(o)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Convert([]byte(doc)); err != nil {
			b.Fatal(err)
		}
	}
}
