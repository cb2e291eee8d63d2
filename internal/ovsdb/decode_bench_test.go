package ovsdb

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// burstMessages are the two update2 notifications of a burst as
// ovsdb-server sends them (go run ./bench): a local port's up toggled, and a
// port bound here (chassis, requested-chassis in options, up).
var burstMessages = []string{
	`{"id":null,"method":"update2","params":["ovnbgp",{"Port_Binding":{"6d1f1e0a-27a4-4c57-9c55-3a7e1c1f3c11":{"modify":{"up":false}}}}]}`,
	`{"id":null,"method":"update2","params":["ovnbgp",{"Port_Binding":{"6d1f1e0a-27a4-4c57-9c55-3a7e1c1f3c12":{"modify":{"chassis":["uuid","0b8c7c36-3bc8-4ef7-9ad5-8f6b2a1d0e99"],"options":["map",[["requested-chassis","c0"]]],"up":true}}}}]}`,
}

// BenchmarkDecodeUpdate2 is the agent's path for one notification: the
// envelope read off the connection, its params decoded, the row modified.
// go test -run '^$' -bench DecodeUpdate2 -benchmem ./internal/ovsdb/
func BenchmarkDecodeUpdate2(b *testing.B) {
	at := portBindingTable(b)
	old, err := at.newRow("x", map[string]any{"logical_port": "p", "up": true})
	if err != nil {
		b.Fatal(err)
	}
	var stream bytes.Buffer
	for i := 0; i < 1000; i++ {
		stream.WriteString(burstMessages[i%len(burstMessages)])
		stream.WriteByte('\n')
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; {
		dec := json.NewDecoder(bytes.NewReader(stream.Bytes()))
		for ; n < b.N; n++ {
			var m rpcMessage
			if err := dec.Decode(&m); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			_, tu, err := decodeUpdate2Params(m.Params)
			if err != nil {
				b.Fatal(err)
			}
			for _, rows := range tu["Port_Binding"] {
				if _, err := at.modifyRow(old, rows.Modify); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
