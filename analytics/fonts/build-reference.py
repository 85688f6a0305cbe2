# Glyph outlines of a sample caption, from the font file itself (fontTools), as plain SVG paths: the test's
# reference rendering, independent of Pango/FreeType. Usage: python3 build-reference.py FONT TEXT PX OUT.svg
import sys
from fontTools.ttLib import TTFont
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
font_path, text, px, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
f = TTFont(font_path)
upm = f['head'].unitsPerEm
cmap = f.getBestCmap()
gs = f.getGlyphSet()
scale = px / upm
ascent = f['hhea'].ascent * scale
height = (f['hhea'].ascent - f['hhea'].descent) * scale
x = 0.0
paths = []
for ch in text:
    name = cmap[ord(ch)]
    pen = SVGPathPen(gs)
    gs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, x, ascent)))
    paths.append(f'<path d="{pen.getCommands()}"/>')
    x += gs[name].width * scale
w, h = int(round(x)) + 1, int(round(height)) + 1
open(out, 'w').write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><g fill="white">' + ''.join(paths) + '</g></svg>\n')
print(w, h, len(text))
