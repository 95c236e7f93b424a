package capture
import ("os";"testing")
func TestProfTmp(t *testing.T) {
	f, err := os.Open(os.Getenv("PCAP")); if err != nil { t.Skip() }
	defer f.Close()
	r, err := Analyze(f, Options{})
	if err != nil { t.Fatal(err) }
	t.Log(r.Packets)
}
