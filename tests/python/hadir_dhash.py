"""dHash of a normalised selfie, written from docs/PROTOCOL.md ("The selfie's dHash").

Standard library only, except `luma_of_jpeg`, which asks Pillow (libjpeg) for the
decoder's greyscale output.
"""

import io


def _cell_weights(length, cells):
    """For each of `cells` equal cells along an axis of `length` pixels, the pixels it
    touches and their overlap, in units of 1/cells pixel (cell c covers
    [c*length, (c+1)*length) when a pixel x covers [x*cells, (x+1)*cells))."""
    out = []
    for c in range(cells):
        start, end = c * length, (c + 1) * length
        weights = []
        for x in range(start // cells, (end - 1) // cells + 1):
            overlap = min(end, (x + 1) * cells) - max(start, x * cells)
            weights.append((x, overlap))
        out.append(weights)
    return out


def dhash_of_grey(pixels, width, height):
    """dHash (int, 64 bits) of a row-major 8-bit grey image `pixels` (bytes-like)."""
    cols = _cell_weights(width, 9)
    rows = _cell_weights(height, 8)
    row_sums = []
    for y in range(height):
        row = pixels[y * width:(y + 1) * width]
        row_sums.append([sum(w * row[x] for x, w in cells) for cells in cols])
    grid = [[sum(wy * row_sums[y][i] for y, wy in rows[j]) for i in range(9)]
            for j in range(8)]
    value = 0
    for j in range(8):
        for i in range(8):
            value = (value << 1) | (1 if grid[j][i] < grid[j][i + 1] else 0)
    return value


def dhash_hex(value):
    return "%016x" % value


def luma_of_jpeg(jpeg_bytes):
    """(pixels, width, height): the JPEG's luma as libjpeg decodes it to greyscale."""
    from PIL import Image

    image = Image.open(io.BytesIO(jpeg_bytes))
    image.draft("L", image.size)  # libjpeg's own greyscale output: the Y channel
    image = image.convert("L")
    return image.tobytes(), image.width, image.height


def dhash_of_jpeg(jpeg_bytes):
    pixels, width, height = luma_of_jpeg(jpeg_bytes)
    return dhash_of_grey(pixels, width, height)


def hamming(a, b):
    return bin(a ^ b).count("1")
