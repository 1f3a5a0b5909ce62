package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// loadClient is the load generator's HTTP/1.1 client: each worker has its own kept-alive
// connection and writes its request and reads the answer on its own goroutine, as wrk does.
// net/http's Transport runs a reader and a writer goroutine per connection and hands every
// request and answer between them; on a 2-CPU machine that shared the cores with the
// function and PostgreSQL, the load generator spent more CPU per request than the bare
// server it measured. The requests themselves are still built and signed with net/http and
// package signature, and written by (*http.Request).Write; answers are parsed by
// http.ReadResponse.
type loadClient struct {
	conns []wire
}

func newLoadClient(workers int) *loadClient {
	return &loadClient{conns: make([]wire, workers)}
}

// roundTrip sends req on worker w's connection and returns the answer's status and body.
func (l *loadClient) roundTrip(w int, req *http.Request) (int, []byte, error) {
	return l.conns[w].roundTrip(req)
}

func (l *loadClient) close() {
	for i := range l.conns {
		l.conns[i].close()
	}
}

// wire is one kept-alive connection.
type wire struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

// roundTripTimeout turns a hang into an error.
const roundTripTimeout = 30 * time.Second

func (k *wire) roundTrip(req *http.Request) (int, []byte, error) {
	reused := k.conn != nil && k.addr == req.URL.Host
	if !reused {
		if err := k.dial(req.URL.Host); err != nil {
			return 0, nil, err
		}
	}
	status, body, err := k.exchange(req)
	if err != nil && reused && errors.Is(err, errNoAnswer) && req.GetBody != nil {
		// The server had closed the idle connection (an idle timeout between measurements)
		// and answered nothing: send the request again on a new one.
		if req.Body, err = req.GetBody(); err != nil {
			return 0, nil, err
		}
		if err = k.dial(req.URL.Host); err != nil {
			return 0, nil, err
		}
		status, body, err = k.exchange(req)
	}
	if err != nil {
		k.close()
	}
	return status, body, err
}

// errNoAnswer: the connection failed before a byte of the answer arrived.
var errNoAnswer = errors.New("connection closed before an answer")

func (k *wire) exchange(req *http.Request) (int, []byte, error) {
	_ = k.conn.SetDeadline(time.Now().Add(roundTripTimeout))
	if err := req.Write(k.bw); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	if err := k.bw.Flush(); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	if _, err := k.br.Peek(1); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, nil, err // no answer in time: not to be sent again
		}
		return 0, nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	resp, err := http.ReadResponse(k.br, req)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	if resp.Close {
		k.close()
	}
	return resp.StatusCode, body, nil
}

func (k *wire) dial(addr string) error {
	k.close()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	k.addr, k.conn = addr, c
	k.br, k.bw = bufio.NewReaderSize(c, 16<<10), bufio.NewWriterSize(c, 16<<10)
	return nil
}

func (k *wire) close() {
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}
