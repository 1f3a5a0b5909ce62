package fn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
)

// HandlerFunc is an operation: it returns an error instead of writing one, so every
// operation fails the same way.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts an operation to net/http.
func Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, err)
		}
	})
}

// JSON writes v with the given status.
func JSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// Validator is implemented by request bodies: it returns field → reason for each problem.
type Validator interface {
	Valid() map[string]string
}

// Decode reads a JSON body into a T: the content type must be JSON, the body within the
// size limit, well-formed, a single object with no unknown fields, and valid.
func Decode[T any](r *http.Request) (T, error) {
	var v T
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return v, Errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			fmt.Sprintf("Send the body as application/json (got %q).", ct))
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, decodeProblem(err)
		}
		return v, Errorf(http.StatusBadRequest, CodeMalformed, "The body must hold exactly one JSON object.")
	}
	if val, ok := any(&v).(Validator); ok {
		if fields := val.Valid(); len(fields) > 0 {
			return v, Invalid(fields)
		}
	}
	return v, nil
}

func decodeProblem(err error) *Problem {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return Errorf(http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("The body is larger than the limit of %d bytes.", tooBig.Limit))
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, CodeMalformed, "The body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, CodeMalformed, "The body is not well-formed JSON.")
	case errors.As(err, &typ):
		if typ.Field == "" { // the body itself, e.g. an array where an object belongs
			return Errorf(http.StatusBadRequest, CodeMalformed, "The body must be a JSON object.")
		}
		want := jsonType(typ.Type.Kind().String())
		p := Errorf(http.StatusBadRequest, CodeMalformed, fmt.Sprintf("Field %q must be %s.", typ.Field, want))
		p.Params = []InvalidParam{{Name: typ.Field, Reason: "must be " + want}}
		return p
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := Errorf(http.StatusBadRequest, CodeUnknownField, fmt.Sprintf("Field %q is not part of this request.", name))
		p.Params = []InvalidParam{{Name: name, Reason: "unknown field"}}
		return p
	default:
		return Errorf(http.StatusBadRequest, CodeMalformed, "The body could not be read as this request's JSON object.")
	}
}

// jsonType names the JSON type a Go kind decodes from, with its article.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
