package results

import (
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// zstdWindow is the encoder's window: a page is at most parquet-go's page buffer (256 KiB),
// so a larger window finds no more matches, and costs its size twice over in history.
const zstdWindow = 256 << 10

// zstdCodec is parquet-go's zstd codec with a small, fixed memory: one encoder, made once
// per file and kept, with a 256 KiB window. parquet-go's own codec keeps its encoders in a
// sync.Pool with zstd's default 8 MiB window, so each holds 16 MiB of history, and a pool
// emptied by the collector makes another. The files are ordinary zstd Parquet: any reader
// decodes them (with its own codec).
type zstdCodec struct {
	mu  sync.Mutex // parquet-go may compress pages from several goroutines
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc == nil {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(zstdWindow),
			zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst, err
		}
		c.enc = enc
	}
	return c.enc.EncodeAll(src, dst[:0]), nil
}

func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dec == nil {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return dst, err
		}
		c.dec = dec
	}
	return c.dec.DecodeAll(src, dst[:0])
}
