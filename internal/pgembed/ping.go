package pgembed

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"time"
)

// ping reports whether a PostgreSQL server at addr accepts connections, like
// pg_isready: it sends a startup message (user postgres, database postgres)
// and treats any answer except "the database system is starting up /
// shutting down" (SQLSTATE 57P03) as up.
func ping(ctx context.Context, addr string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}

	var body bytes.Buffer
	_ = binary.Write(&body, binary.BigEndian, int32(196608)) // protocol 3.0
	for _, s := range []string{"user", "postgres", "database", "postgres", ""} {
		body.WriteString(s)
		body.WriteByte(0)
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(body.Len()+4))
	msg = append(msg, body.Bytes()...)
	if _, err := conn.Write(msg); err != nil {
		return false, err
	}

	var hdr [5]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return false, err
	}
	n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
	if n < 0 || n > 1<<16 {
		return false, io.ErrUnexpectedEOF
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(conn, payload); err != nil {
		return false, err
	}
	switch hdr[0] {
	case 'R': // authentication request: the server is accepting connections
		_, _ = conn.Write([]byte{'X', 0, 0, 0, 4}) // Terminate
		return true, nil
	case 'E':
		for _, f := range bytes.Split(payload, []byte{0}) {
			if len(f) > 0 && f[0] == 'C' {
				return string(f[1:]) != "57P03", nil
			}
		}
		return true, nil
	default:
		return false, nil
	}
}
