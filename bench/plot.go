package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strconv"
	"time"
)

// plotLatency draws event latency (p50, p99; alone and in the burst)
// against the number of southbound ports, both axes logarithmic, with
// image/png only: axes, grid, lines, a legend and labels in a tiny font.
func plotLatency(path string, rs []*result) error {
	const W, H = 760, 480
	const left, right, top, bottom = 70, 200, 30, 60
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.White)
	if len(rs) == 0 {
		return savePNG(path, img)
	}
	type series struct {
		name string
		c    color.RGBA
		dash bool
		get  func(*result) time.Duration
	}
	ss := []series{
		{"alone p50", color.RGBA{31, 119, 180, 255}, false, func(r *result) time.Duration { return pct(r.alone.both, .5) }},
		{"alone p99", color.RGBA{31, 119, 180, 255}, true, func(r *result) time.Duration { return pct(r.alone.both, .99) }},
		{"burst p50", color.RGBA{214, 39, 40, 255}, false, func(r *result) time.Duration { return pct(r.burst.both, .5) }},
		{"burst p99", color.RGBA{214, 39, 40, 255}, true, func(r *result) time.Duration { return pct(r.burst.both, .99) }},
	}
	// Y range: decades covering the data (ms).
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, r := range rs {
			v := math.Max(float64(s.get(r).Microseconds())/1000, 0.01)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yhi <= ylo {
		yhi = ylo + 1
	}
	xlo, xhi := math.Floor(math.Log10(float64(rs[0].ports))), math.Ceil(math.Log10(float64(rs[len(rs)-1].ports)))
	if xhi <= xlo {
		xhi = xlo + 1
	}
	pw, ph := W-left-right, H-top-bottom
	px := func(n float64) int { return left + int((math.Log10(n)-xlo)/(xhi-xlo)*float64(pw)) }
	py := func(v float64) int {
		v = math.Max(v, 0.01)
		return top + ph - int((math.Log10(v)-ylo)/(yhi-ylo)*float64(ph))
	}
	grid := color.RGBA{225, 225, 225, 255}
	black := color.RGBA{0, 0, 0, 255}
	for d := xlo; d <= xhi; d++ {
		x := px(math.Pow(10, d))
		line(img, x, top, x, top+ph, grid, false)
		text(img, x-12, top+ph+8, fmtCount(math.Pow(10, d)), black)
	}
	for d := ylo; d <= yhi; d++ {
		y := py(math.Pow(10, d))
		line(img, left, y, left+pw, y, grid, false)
		text(img, left-50, y-3, strconv.FormatFloat(math.Pow(10, d), 'g', -1, 64)+"ms", black)
	}
	// Target lines: 10 ms (alone p99), 100 ms (burst p99).
	for _, tgt := range []float64{10, 100} {
		if tgt >= math.Pow(10, ylo) && tgt <= math.Pow(10, yhi) {
			y := py(tgt)
			line(img, left, y, left+pw, y, color.RGBA{120, 200, 120, 255}, true)
		}
	}
	line(img, left, top, left, top+ph, black, false)
	line(img, left, top+ph, left+pw, top+ph, black, false)
	text(img, left+pw/2-60, H-25, "southbound ports", black)
	text(img, left, 10, "event latency (ms), log-log", black)
	for k, s := range ss {
		var x0, y0 int
		for i, r := range rs {
			x, y := px(float64(r.ports)), py(float64(s.get(r).Microseconds())/1000)
			if i > 0 {
				thick(img, x0, y0, x, y, s.c, s.dash)
			}
			fill(img, image.Rect(x-3, y-3, x+4, y+4), s.c)
			x0, y0 = x, y
		}
		ly := top + 10 + 22*k
		thick(img, left+pw+20, ly+3, left+pw+55, ly+3, s.c, s.dash)
		text(img, left+pw+62, ly, s.name, black)
	}
	ly := top + 10 + 22*len(ss)
	line(img, left+pw+20, ly+3, left+pw+55, ly+3, color.RGBA{120, 200, 120, 255}, true)
	text(img, left+pw+62, ly, "targets", black)
	return savePNG(path, img)
}

func fmtCount(n float64) string {
	switch {
	case n >= 1e6:
		return strconv.Itoa(int(n/1e6)) + "m"
	case n >= 1e3:
		return strconv.Itoa(int(n/1e3)) + "k"
	}
	return strconv.Itoa(int(n))
}

func savePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Set(x, y, c)
		}
	}
}

// line draws a 1-pixel line (Bresenham), dashed when dash is set.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color, dash bool) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e, n := dx+dy, 0
	for {
		if !dash || (n/6)%2 == 0 {
			img.Set(x0, y0, c)
		}
		n++
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func thick(img *image.RGBA, x0, y0, x1, y1 int, c color.Color, dash bool) {
	for d := -1; d <= 1; d++ {
		line(img, x0, y0+d, x1, y1+d, c, dash)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// text draws s with a 3x5 pixel font scaled by 2 (unknown runes are blank).
func text(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range s {
		g, ok := font[r]
		if ok {
			for row := 0; row < 5; row++ {
				for col := 0; col < 3; col++ {
					if g[row]&(4>>col) != 0 {
						fill(img, image.Rect(x+2*col, y+2*row, x+2*col+2, y+2*row+2), c)
					}
				}
			}
		}
		x += 8
	}
}

// font: each glyph is 5 rows of 3 bits (MSB = left column).
var font = map[rune][5]byte{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7}, '4': {5, 5, 7, 1, 1},
	'5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 1, 1}, '8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7},
	'.': {0, 0, 0, 0, 2}, '-': {0, 0, 7, 0, 0}, '(': {1, 2, 2, 2, 1}, ')': {4, 2, 2, 2, 4}, ',': {0, 0, 0, 2, 4},
	'a': {0, 7, 1, 7, 7}, 'b': {4, 4, 7, 5, 7}, 'c': {0, 7, 4, 4, 7}, 'd': {1, 1, 7, 5, 7}, 'e': {7, 5, 7, 4, 7},
	'f': {3, 4, 7, 4, 4}, 'g': {7, 5, 7, 1, 7}, 'h': {4, 4, 7, 5, 5}, 'i': {2, 0, 2, 2, 2}, 'k': {4, 5, 6, 5, 5},
	'l': {2, 2, 2, 2, 3}, 'm': {0, 7, 7, 5, 5}, 'n': {0, 6, 5, 5, 5}, 'o': {0, 7, 5, 5, 7}, 'p': {7, 5, 7, 4, 4},
	'r': {0, 7, 4, 4, 4}, 's': {0, 7, 6, 1, 7}, 't': {2, 7, 2, 2, 3}, 'u': {0, 5, 5, 5, 7}, 'v': {0, 5, 5, 5, 2},
	'y': {5, 5, 7, 1, 7}, 'w': {0, 5, 5, 7, 7}, 'x': {0, 5, 2, 2, 5},
}
