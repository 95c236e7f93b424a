package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
)

// The SVGs are drawn with classes and presentation attributes only (no
// inline style), so the page's Content-Security-Policy needs no
// 'unsafe-inline'; colours come from app.css and follow light and dark mode.

const svgWidth = 1000.0

// blueprintSVG draws a full-size segment to scale (one strip for the whole
// packet against the link MTU) and its headers magnified (one strip where
// every header byte has the same width and the payload is cut short).
//
// Each layer's label under the magnified strip gets an id (returned by
// layer index), which the page's arithmetic links to.
func blueprintSVG(b advise.Blueprint, linkMTU int, layers []encap.LayerMTU) (template.HTML, map[int]string) {
	ids := map[int]string{}
	var sb strings.Builder
	outside, nonPayload, payload := 0, 0, 0
	for _, f := range b.Fields {
		switch {
		case f.Offset < 0:
			outside += f.Bytes
		case f.Role == "payload":
			payload += f.Bytes
		default:
			nonPayload += f.Bytes
		}
	}
	total := outside + max(linkMTU, b.Wire)
	scale := svgWidth / float64(total)
	const h1, y1 = 34.0, 26.0
	const y2, h2 = 118.0, 40.0
	fmt.Fprintf(&sb, `<svg class="blueprint" viewBox="0 0 %.0f 196" role="img" aria-labelledby="bp-title" xmlns="http://www.w3.org/2000/svg">`, svgWidth)
	fmt.Fprintf(&sb, `<title id="bp-title">Full-size %s segment: %d-byte inner packet, %d bytes on a %d-byte link MTU</title>`, b.Family, b.Inner, b.Wire, linkMTU)
	fmt.Fprintf(&sb, `<text class="cap" x="0" y="14">to scale: 1 px = %.2f bytes</text>`, 1/scale)
	// The link MTU as a bracket behind the packet.
	x0 := float64(outside) * scale
	fmt.Fprintf(&sb, `<rect class="mtu" x="%.2f" y="%.1f" width="%.2f" height="%.1f"/>`, x0, y1-4, float64(linkMTU)*scale, h1+8)
	fmt.Fprintf(&sb, `<text class="cap end" x="%.2f" y="14">link MTU %d B</text>`, x0+float64(linkMTU)*scale, linkMTU)
	x := 0.0
	layerIdx, lastLayer := 0, ""
	for _, f := range b.Fields {
		if f.Layer != lastLayer && f.Layer != "" {
			layerIdx++
			lastLayer = f.Layer
		}
		w := float64(f.Bytes) * scale
		cls := roleClass(f.Role, layerIdx)
		fmt.Fprintf(&sb, `<rect class="%s" x="%.2f" y="%.1f" width="%.2f" height="%.1f"><title>%s</title></rect>`, cls, x, y1, w, h1, template.HTMLEscapeString(fieldTitle(f)))
		if w > 110 {
			fmt.Fprintf(&sb, `<text class="in" x="%.2f" y="%.1f">%s %d B</text>`, x+w/2, y1+h1/2+5, template.HTMLEscapeString(shortName(f)), f.Bytes)
		}
		x += w
	}
	// Ticks every 250 bytes of the link MTU.
	for t := 0; t <= linkMTU; t += 250 {
		tx := x0 + float64(t)*scale
		fmt.Fprintf(&sb, `<line class="tick" x1="%.2f" x2="%.2f" y1="%.1f" y2="%.1f"/>`, tx, tx, y1+h1+4, y1+h1+9)
		if t%500 == 0 && linkMTU-t >= 150 || t == 0 {
			anchor := "mid"
			if tx < 20 {
				anchor = ""
			}
			fmt.Fprintf(&sb, `<text class="cap %s" x="%.2f" y="%.1f">%d</text>`, anchor, tx, y1+h1+21, t)
		}
	}

	// Headers magnified.
	gap := 150.0
	k := (svgWidth - gap) / float64(max(nonPayload, 1))
	k = min(k, 24)
	fmt.Fprintf(&sb, `<text class="cap" x="0" y="%.1f">headers and trailers magnified: 1 byte = %.1f px; the %d-byte payload is cut short</text>`, y2-10, k, payload)
	x = 0
	layerIdx, lastLayer = 0, ""
	for _, f := range b.Fields {
		if f.Layer != lastLayer && f.Layer != "" {
			layerIdx++
			lastLayer = f.Layer
		}
		cls := roleClass(f.Role, layerIdx)
		if f.Role == "payload" {
			fmt.Fprintf(&sb, `<rect class="%s" x="%.2f" y="%.1f" width="%.2f" height="%.1f"><title>%s</title></rect>`, cls, x, y2, gap, h2, template.HTMLEscapeString(fieldTitle(f)))
			fmt.Fprintf(&sb, `<path class="cut" d="M%.2f %.1f l8 %.1f l-8 %.1f"/>`, x+gap/2-4, y2, h2/2, h2/2)
			fmt.Fprintf(&sb, `<text class="in" x="%.2f" y="%.1f">%d B</text>`, x+gap/2-30, y2+h2/2+5, f.Bytes)
			x += gap
			continue
		}
		w := float64(f.Bytes) * k
		fmt.Fprintf(&sb, `<rect class="%s" x="%.2f" y="%.1f" width="%.2f" height="%.1f"><title>%s</title></rect>`, cls, x, y2, w, h2, template.HTMLEscapeString(fieldTitle(f)))
		if w >= 16 {
			fmt.Fprintf(&sb, `<text class="in" x="%.2f" y="%.1f">%d</text>`, x+w/2, y2+h2/2+5, f.Bytes)
		}
		x += w
	}
	// Which layer each run of fields belongs to, under the magnified strip.
	start, cur := 0.0, "\x00"
	seen, afterPayload := map[string]int{}, false
	flush := func(end float64) {
		if cur == "\x00" || end-start < 1 {
			return
		}
		name := cur
		if name == "" {
			name = "inner " + b.Family
		}
		id := ""
		if cur != "" && !afterPayload {
			// The k-th header run of a spec is the k-th layer with it
			// (headers come wire inwards).
			k := seen[cur]
			seen[cur]++
			for i, l := range layers {
				if l.Spec == cur {
					if k == 0 {
						id = fmt.Sprintf("bp-L%d", i)
						ids[i] = id
						break
					}
					k--
				}
			}
		}
		if id != "" {
			fmt.Fprintf(&sb, `<path id="%s" class="tick" d="M%.2f %.1f v6 H%.2f v-6"/>`, id, start+1, y2+h2+4, end-1)
		} else {
			fmt.Fprintf(&sb, `<path class="tick" d="M%.2f %.1f v6 H%.2f v-6"/>`, start+1, y2+h2+4, end-1)
		}
		if end-start >= float64(len(name))*7 {
			fmt.Fprintf(&sb, `<text class="cap mid" x="%.2f" y="%.1f">%s</text>`, (start+end)/2, y2+h2+24, template.HTMLEscapeString(name))
		}
	}
	pos := 0.0
	for _, f := range b.Fields {
		w := float64(f.Bytes) * k
		if f.Role == "payload" {
			w = gap
		}
		if f.Layer != cur {
			flush(pos)
			cur, start = f.Layer, pos
		}
		if f.Role == "payload" {
			afterPayload = true
		}
		pos += w
	}
	flush(pos)
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()), ids
}

func roleClass(role string, layer int) string {
	c := "r-" + role
	if role == "encap" && layer%2 == 0 {
		c += " alt"
	}
	return c
}

func fieldTitle(f advise.BlueprintField) string {
	where := fmt.Sprintf("offset %d", f.Offset)
	if f.Offset < 0 {
		where = "outside the MTU"
	}
	s := fmt.Sprintf("%s: %d bytes, %s", f.Name, f.Bytes, where)
	if f.Layer != "" {
		s += " (" + f.Layer + ")"
	}
	return s
}

func shortName(f advise.BlueprintField) string {
	if f.Role == "payload" {
		return "payload"
	}
	return f.Name
}

// efficiencySVG is the seed's bandwidth bar: payload, inner headers and
// encapsulation as shares of the bytes on the link.
func efficiencySVG(e advise.Efficiency) template.HTML {
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="effbar" viewBox="0 0 %.0f 36" role="img" aria-labelledby="eff-title" xmlns="http://www.w3.org/2000/svg">`, svgWidth)
	fmt.Fprintf(&sb, `<title id="eff-title">Of %d bytes on the link: payload %d, IP and TCP headers %d, encapsulation %d</title>`, e.WireBytes, e.PayloadBytes, e.HeaderBytes, e.EncapBytes)
	parts := []struct {
		cls   string
		name  string
		bytes int
	}{{"r-payload", "payload", e.PayloadBytes}, {"r-tcp", "headers", e.HeaderBytes}, {"r-encap", "encapsulation", e.EncapBytes}}
	x := 0.0
	for _, p := range parts {
		if e.WireBytes <= 0 {
			break
		}
		w := svgWidth * float64(p.bytes) / float64(e.WireBytes)
		fmt.Fprintf(&sb, `<rect class="%s" x="%.2f" y="0" width="%.2f" height="36"><title>%s: %d bytes (%s)</title></rect>`, p.cls, x, w, p.name, p.bytes, pct(float64(p.bytes)/float64(e.WireBytes)))
		if w > 70 {
			fmt.Fprintf(&sb, `<text class="in" x="%.2f" y="23">%s</text>`, x+w/2, pct(float64(p.bytes)/float64(e.WireBytes)))
		}
		x += w
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }
