package stack

// Hooks for tools that drive a running stack from outside its start-up code, such as the
// benchmark harness (infra/bench), which starts further instances of a function binary and
// reads their memory use.

// Env is the environment the stack gives this function (PORT included), for starting
// another instance of its binary the same way.
func (f *Function) Env() []string { return append([]string(nil), f.env...) }

// PID is the function's process id, or 0 when it is not running.
func (f *Function) PID() int {
	if f.cmd == nil || f.cmd.Process == nil || f.Exited() {
		return 0
	}
	return f.cmd.Process.Pid
}
