package plpmtud

// Models of what real stacks do, each following the named source file.
// They keep the stack's own constants (step, tries, precision) and ignore
// Config.Step and Config.MaxProbes; Config.Min and Config.Max stand for the
// stack's base and maximum sizes. Sizes are IP packet sizes throughout
// (Linux TCP works in MSS and converts with a fixed header, which is the
// same search).
//
// One file per modelled stack: linuxtcp.go, quicgo.go, quiche.go, msquic.go,
// linuxsctp.go, freebsdsctp.go.
