package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/fn"
)

func TestLogoIsUploadedStraightToTheBucketAndAttached(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, f := range []file{
		logoPNG(t),
		{kind: "logo", contentType: ctJPEG, filename: "logo.jpg", body: jpegBytes(t)},
		{kind: "logo", contentType: ctSVG, filename: "logo.svg", body: []byte(svgLogo)},
		{kind: "logo", contentType: ctSVG, filename: "bom.svg", body: []byte("\xEF\xBB\xBF  <svg xmlns=\"http://www.w3.org/2000/svg\"/>")},
	} {
		t.Run(f.filename, func(t *testing.T) {
			s := h.newService(t, "服务"+f.filename)
			before := time.Now()
			tk := h.start(t, h.vendor, s.ID, f.form())

			// The ticket signs the declared type and size, and expires with the upload.
			if tk.Headers["Content-Type"] != f.contentType {
				t.Errorf("ticket headers %v, want Content-Type %s", tk.Headers, f.contentType)
			}
			if d := tk.ExpiresAt.Sub(before); d < 14*time.Minute || d > 16*time.Minute {
				t.Errorf("ticket expires_at %v, want about 15 minutes from now", tk.ExpiresAt)
			}
			key := h.key(t, tk.UploadID)
			if want := "services/" + s.ID + "/logo/" + tk.UploadID; key != want {
				t.Errorf("object key %q, want %q", key, want)
			}
			u, err := url.Parse(tk.URL)
			if err != nil || u.Path != "/"+h.store.Bucket+"/"+key {
				t.Errorf("upload URL %s does not put to %s/%s", tk.URL, h.store.Bucket, key)
			}
			if h.stored(t, key) {
				t.Fatal("the object exists before the upload")
			}

			h.put(t, tk, f.body)
			got := wantJSON[service](t, h.complete(t, h.vendor, tk), http.StatusOK)
			if !got.Logo.Attached || got.Reports.Functional.Attached || got.Status != "testing" {
				t.Errorf("after the logo upload: logo %+v reports %+v status %s", got.Logo, got.Reports, got.Status)
			}
			if !h.stored(t, key) {
				t.Error("the attached logo is not in the bucket")
			}
			if n := scalar[int](t, h, `SELECT count(*) FROM services WHERE id = $1 AND logo_key = $2`, s.ID, key); n != 1 {
				t.Error("the service does not point at the uploaded object")
			}
			if st := scalar[string](t, h, `SELECT status FROM uploads WHERE id = $1`, tk.UploadID); st != "complete" {
				t.Errorf("upload status %q, want complete", st)
			}
			if !h.get(t, h.vendor, s.ID).Logo.Attached {
				t.Error("GET does not show the logo attached")
			}
		})
	}
}

func TestReportsAcceptPDFWordAndZip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	for _, c := range []struct {
		contentType string
		body        []byte
	}{
		{ctPDF, pdfBytes()},
		{ctDOC, docBytes()},
		{ctDOCX, docxBytes(t)},
		{ctZIP, zipBytes(t, map[string]string{"report/summary.txt": "all 42 cases passed"})},
	} {
		for _, kind := range []string{"functional_report", "security_report"} {
			t.Run(kind+" "+c.contentType, func(t *testing.T) {
				got := h.attach(t, h.vendor, s.ID, file{kind: kind, contentType: c.contentType, filename: "report", body: c.body})
				r := got.Reports.Functional
				if kind == "security_report" {
					r = got.Reports.Security
				}
				if !r.Attached || r.Size != int64(len(c.body)) || r.ToBeCompleted {
					t.Errorf("%s: %+v, want attached, %d bytes, complete", kind, r, len(c.body))
				}
				// The download gives back exactly these bytes.
				var d struct{ URL string }
				h.as(t, h.vendor, "GET", servicePath(s.ID, "/files/", kind), nil).want(t, http.StatusOK).decode(t, &d)
				if _, raw := fetch(t, d.URL); !bytes.Equal(raw, c.body) {
					t.Errorf("downloaded %d bytes, want the %d uploaded", len(raw), len(c.body))
				}
			})
		}
	}
	if got := h.get(t, h.vendor, s.ID); got.NextAction != "apply" {
		t.Errorf("with both reports, next_action %q, want apply", got.NextAction)
	}
}

func TestEmptyReportIsAPlaceholderToBeCompleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")

	got := h.attach(t, h.vendor, s.ID, emptyReport("functional_report"))
	if f := got.Reports.Functional; !f.Attached || f.Size != 0 || !f.ToBeCompleted {
		t.Errorf("empty functional report: %+v, want attached, size 0, to_be_completed", f)
	}
	if got.Reports.Security.Attached || got.NextAction != "attach-reports" {
		t.Errorf("security %+v next_action %q, want unattached / attach-reports", got.Reports.Security, got.NextAction)
	}
	var raw map[string]any
	h.as(t, h.vendor, "GET", servicePath(s.ID), nil).want(t, http.StatusOK).decode(t, &raw)
	if f := raw["reports"].(map[string]any)["functional"].(map[string]any); f["to_be_completed"] != true || f["size"] != float64(0) {
		t.Errorf("reports.functional as JSON: %v, want to_be_completed true and size 0", f)
	}

	got = h.attach(t, h.vendor, s.ID, securityPDF())
	if sec := got.Reports.Security; !sec.Attached || sec.ToBeCompleted || sec.Size != int64(len(pdfBytes())) {
		t.Errorf("security report: %+v", sec)
	}
	if got.NextAction != "apply" {
		t.Errorf("next_action %q, want apply (an empty report is enough to apply)", got.NextAction)
	}

	// Replacing the placeholder completes it.
	got = h.attach(t, h.vendor, s.ID, functionalPDF())
	if f := got.Reports.Functional; f.ToBeCompleted || f.Size != int64(len(pdfBytes())) {
		t.Errorf("replaced functional report: %+v", f)
	}
}

func TestCompletionRefusesContentThatIsNotWhatWasDeclared(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	png, jpg, pdf := pngBytes(t), jpegBytes(t), pdfBytes()
	text := []byte("This is the security report, honest.\n")
	for _, c := range []struct {
		name, kind, contentType string
		body                    []byte
	}{
		{"PNG declared as PDF", "functional_report", ctPDF, png},
		{"plain text declared as PDF", "security_report", ctPDF, text},
		{"PDF declared as Word 97", "functional_report", ctDOC, pdf},
		{"PDF declared as DOCX", "functional_report", ctDOCX, pdf},
		{"text declared as ZIP", "security_report", ctZIP, text},
		{"PDF with a leading blank", "functional_report", ctPDF, append([]byte(" "), pdf...)},
		{"JPEG declared as PNG", "logo", ctPNG, jpg},
		{"PNG declared as JPEG", "logo", ctJPEG, png},
		{"PDF declared as PNG", "logo", ctPNG, pdf},
		{"SVG declared as PNG", "logo", ctPNG, []byte(svgLogo)},
		{"PNG declared as SVG", "logo", ctSVG, png},
		{"HTML declared as SVG", "logo", ctSVG, []byte("<html><body><svg></svg><script>alert(1)</script></body></html>")},
		{"text declared as SVG", "logo", ctSVG, text},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := h.row(t, s.ID)
			tk := h.start(t, h.vendor, s.ID, uploadForm{Kind: c.kind, ContentType: c.contentType, Size: int64(len(c.body)), Filename: "file"})
			h.put(t, tk, c.body)
			key := h.key(t, tk.UploadID)
			h.complete(t, h.vendor, tk).wantProblem(t, http.StatusUnprocessableEntity, "upload-rejected")
			if h.stored(t, key) {
				t.Errorf("the rejected object %s is still in the bucket", key)
			}
			h.unchanged(t, s.ID, before)
			// Nothing is left to complete: the bytes are gone.
			h.complete(t, h.vendor, tk).wantProblem(t, http.StatusConflict, "upload-missing")
		})
	}
}

func TestSVGLogoWithActiveContentIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	const open = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"`
	for _, c := range []struct{ name, svg string }{
		{"script element", open + `><script>alert(document.cookie)</script></svg>`},
		{"script element in capitals", open + `><SCRIPT type="text/javascript">alert(1)</SCRIPT></svg>`},
		{"script after an XML declaration", `<?xml version="1.0"?>` + "\n" + open + `><script>alert(1)</script></svg>`},
		{"onload attribute", open + ` onload="alert(1)"/>`},
		{"onload after a line break", open + "\nonload=\"alert(1)\"/>"},
		{"onload after a tab", open + "\tonload=\"alert(1)\"/>"},
		{"onclick on a shape", open + `><rect width="10" height="10" onclick="alert(1)"/></svg>`},
		{"onbegin on an animation", open + `><animate attributeName="x" dur="1s" onbegin="alert(1)"/></svg>`},
		{"onfocusin", open + `><a onfocusin="alert(1)"><rect width="1" height="1"/></a></svg>`},
		{"javascript link", open + `><a xlink:href="javascript:alert(1)"><rect width="10" height="10"/></a></svg>`},
		{"foreign HTML", open + `><foreignObject><iframe src="https://evil.example"/></foreignObject></svg>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := h.row(t, s.ID)
			body := []byte(c.svg)
			tk := h.start(t, h.vendor, s.ID, uploadForm{Kind: "logo", ContentType: ctSVG, Size: int64(len(body)), Filename: "logo.svg"})
			h.put(t, tk, body)
			key := h.key(t, tk.UploadID)
			p := h.complete(t, h.vendor, tk).wantProblem(t, http.StatusUnprocessableEntity, "upload-rejected")
			if !strings.Contains(strings.ToLower(p.Detail), "svg") {
				t.Errorf("detail %q does not say what is wrong with the SVG", p.Detail)
			}
			if h.stored(t, key) {
				t.Errorf("the refused SVG %s is still in the bucket", key)
			}
			h.unchanged(t, s.ID, before)
		})
	}
}

func TestUploadedSizeMustMatchTheDeclaredSize(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	pdf := pdfBytes()
	for _, c := range []struct {
		name     string
		declared int64
		sent     []byte
	}{
		{"more bytes than declared", int64(len(pdf)), append(append([]byte{}, pdf...), bytes.Repeat([]byte("x"), 4096)...)},
		{"fewer bytes than declared", int64(len(pdf)), pdf[:10]},
		{"bytes for a report declared empty", 0, pdf},
		{"nothing for a report declared with bytes", int64(len(pdf)), []byte{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := h.row(t, s.ID)
			tk := h.start(t, h.vendor, s.ID, uploadForm{Kind: "security_report", ContentType: ctPDF, Size: c.declared, Filename: "report.pdf"})
			h.put(t, tk, c.sent)
			key := h.key(t, tk.UploadID)
			p := h.complete(t, h.vendor, tk).wantProblem(t, http.StatusUnprocessableEntity, "upload-rejected")
			if !strings.Contains(p.Detail, "bytes") {
				t.Errorf("detail %q does not speak of the size", p.Detail)
			}
			if h.stored(t, key) {
				t.Errorf("the object of the wrong size %s is still in the bucket", key)
			}
			h.unchanged(t, s.ID, before)
		})
	}
}

func TestCompletingBeforeUploadingSaysTheFileIsMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	before := h.row(t, s.ID)
	tk := h.start(t, h.vendor, s.ID, functionalPDF().form())
	h.complete(t, h.vendor, tk).wantProblem(t, http.StatusConflict, "upload-missing")
	h.unchanged(t, s.ID, before)
	if st := scalar[string](t, h, `SELECT status FROM uploads WHERE id = $1`, tk.UploadID); st != "pending" {
		t.Errorf("upload status %q, want pending", st)
	}
	// Once the bytes are there, the same upload completes.
	h.put(t, tk, functionalPDF().body)
	if got := wantJSON[service](t, h.complete(t, h.vendor, tk), http.StatusOK); !got.Reports.Functional.Attached {
		t.Error("the report is not attached after uploading and completing")
	}
}

func TestCompletingAnUploadTwiceIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	tk := h.start(t, h.vendor, s.ID, logoPNG(t).form())
	h.put(t, tk, logoPNG(t).body)
	h.complete(t, h.vendor, tk).want(t, http.StatusOK)
	before := h.row(t, s.ID)
	h.complete(t, h.vendor, tk).wantProblem(t, http.StatusConflict, fn.CodeInvalidState)
	h.unchanged(t, s.ID, before)
	if !h.stored(t, h.key(t, tk.UploadID)) {
		t.Error("completing twice removed the attached logo")
	}
}

func TestConcurrentCompletionsOfOneUploadAttachItOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	tk := h.start(t, h.vendor, s.ID, functionalPDF().form())
	h.put(t, tk, functionalPDF().body)
	const n = 5
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := h.try("POST", tk.CompleteURL, nil, bearer(h.vendor.Token))
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = r.status
		}()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		}
	}
	if ok != 1 || conflict != n-1 {
		t.Errorf("statuses %v, want one 200 and %d 409", statuses, n-1)
	}
}

func TestExpiredUploadCannotBeCompleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	tk := h.start(t, h.vendor, s.ID, logoPNG(t).form())
	h.put(t, tk, logoPNG(t).body)
	h.exec(t, `UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = $1`, tk.UploadID)
	before := h.row(t, s.ID)
	h.complete(t, h.vendor, tk).wantProblem(t, http.StatusConflict, "upload-expired")
	h.unchanged(t, s.ID, before)
	if h.stored(t, h.key(t, tk.UploadID)) {
		t.Error("the expired upload's object is still in the bucket")
	}
}

func TestCompletingAnUploadOfAnotherServiceIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	other := h.newService(t, "社保查询")
	tk := h.start(t, h.vendor, other.ID, logoPNG(t).form())
	h.put(t, tk, logoPNG(t).body)
	before, beforeOther := h.row(t, s.ID), h.row(t, other.ID)

	for _, path := range []string{
		servicePath(s.ID, "/uploads/", tk.UploadID, "/complete"),                    // the other service's upload
		servicePath(s.ID, "/uploads/4d1c2a8e-5b7f-4e3a-9d6c-1a2b3c4d5e6f/complete"), // no such upload
	} {
		h.as(t, h.vendor, "POST", path, nil).wantProblem(t, http.StatusNotFound, fn.CodeNotFound)
	}
	h.unchanged(t, s.ID, before)
	h.unchanged(t, other.ID, beforeOther)
}

func TestUploadRequestIsCheckedBeforeAnythingIsSigned(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	for _, c := range []struct {
		name  string
		req   uploadForm
		field string // "" when the request is acceptable
	}{
		{"logo of exactly 512 KiB", uploadForm{"logo", ctPNG, 512 << 10, "logo.png"}, ""},
		{"logo of 512 KiB and a byte", uploadForm{"logo", ctPNG, 512<<10 + 1, "logo.png"}, "size"},
		{"logo of 20 MiB", uploadForm{"logo", ctJPEG, 20 << 20, "logo.jpg"}, "size"},
		{"empty logo", uploadForm{"logo", ctPNG, 0, "logo.png"}, "size"},
		{"GIF logo", uploadForm{"logo", "image/gif", 1000, "logo.gif"}, "content_type"},
		{"WebP logo", uploadForm{"logo", "image/webp", 1000, "logo.webp"}, "content_type"},
		{"PDF as a logo", uploadForm{"logo", ctPDF, 1000, "logo.pdf"}, "content_type"},
		{"report of exactly 20 MiB", uploadForm{"functional_report", ctPDF, 20 << 20, "r.pdf"}, ""},
		{"report of 20 MiB and a byte", uploadForm{"functional_report", ctPDF, 20<<20 + 1, "r.pdf"}, "size"},
		{"report of a negative size", uploadForm{"security_report", ctPDF, -1, "r.pdf"}, "size"},
		{"plain-text report", uploadForm{"security_report", "text/plain", 100, "r.txt"}, "content_type"},
		{"HTML report", uploadForm{"security_report", "text/html", 100, "r.html"}, "content_type"},
		{"PNG as a report", uploadForm{"functional_report", ctPNG, 100, "r.png"}, "content_type"},
		{"content type with parameters", uploadForm{"functional_report", "application/pdf; charset=binary", 100, "r.pdf"}, "content_type"},
		{"no content type", uploadForm{"functional_report", "", 100, "r.pdf"}, "content_type"},
		{"unknown kind", uploadForm{"business_licence", ctPDF, 100, "l.pdf"}, "kind"},
		{"no kind", uploadForm{"", ctPDF, 100, "l.pdf"}, "kind"},
		{"kind in capitals", uploadForm{"LOGO", ctPNG, 100, "l.png"}, "kind"},
		{"no filename", uploadForm{"logo", ctPNG, 100, ""}, "filename"},
		{"filename of two lines", uploadForm{"logo", ctPNG, 100, "logo\n.png"}, "filename"},
		{"filename of 201 characters", uploadForm{"logo", ctPNG, 100, strings.Repeat("l", 201)}, "filename"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := scalar[int](t, h, `SELECT count(*) FROM uploads`)
			r := h.as(t, h.vendor, "POST", servicePath(s.ID, "/uploads"), c.req)
			if c.field == "" {
				r.want(t, http.StatusCreated)
				return
			}
			r.wantInvalid(t, c.field)
			if n := scalar[int](t, h, `SELECT count(*) FROM uploads`); n != before {
				t.Error("a refused upload request was recorded")
			}
		})
	}
}

func TestObjectKeysNeverComeFromTheUploadersFilename(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	for _, name := range []string{"../../etc/passwd", "/etc/passwd", `..\..\windows\system.ini`, "services/other/logo/x", "a b?c#d%2e%2e%2f.png"} {
		t.Run(name, func(t *testing.T) {
			f := logoPNG(t)
			f.filename = name
			tk := h.start(t, h.vendor, s.ID, f.form())
			key := h.key(t, tk.UploadID)
			if want := "services/" + s.ID + "/logo/" + tk.UploadID; key != want {
				t.Errorf("key %q, want %q", key, want)
			}
			u, err := url.Parse(tk.URL)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"..", "passwd", "windows", "other", "%", "?", "#", " "} {
				if strings.Contains(key, bad) || strings.Contains(u.EscapedPath(), bad) {
					t.Errorf("key %q or upload path %s carries %q from the filename", key, u.EscapedPath(), bad)
				}
			}
			h.put(t, tk, f.body)
			h.complete(t, h.vendor, tk).want(t, http.StatusOK)
			if !h.stored(t, key) {
				t.Errorf("the object is not under the server's key %s", key)
			}
			for _, stray := range []string{"etc/passwd", "/etc/passwd", "services/other/logo/x"} {
				if h.stored(t, stray) {
					t.Errorf("an object exists under %q", stray)
				}
			}
			// The download is named after the service, not the uploader's name for the file.
			var d struct{ Filename string }
			h.as(t, h.vendor, "GET", servicePath(s.ID, "/files/logo"), nil).want(t, http.StatusOK).decode(t, &d)
			if d.Filename != s.ModuleCode+"-logo.png" {
				t.Errorf("download filename %q, want %s-logo.png", d.Filename, s.ModuleCode)
			}
		})
	}
}

func TestDownloadGivesAShortLivedLinkToTheAttachedFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	logo := logoPNG(t)
	logo.filename = "我的logo-final-v3.png"
	h.attach(t, h.vendor, s.ID, logo)
	docx := file{kind: "functional_report", contentType: ctDOCX, filename: "功能测试报告-内部.docx", body: docxBytes(t)}
	h.attach(t, h.vendor, s.ID, docx)

	for _, c := range []struct {
		kind, filename string
		body           []byte
	}{
		{"logo", s.ModuleCode + "-logo.png", logo.body},
		{"functional_report", s.ModuleCode + "-functional-report.docx", docx.body},
	} {
		t.Run(c.kind, func(t *testing.T) {
			var d struct {
				URL       string    `json:"url"`
				Filename  string    `json:"filename"`
				ExpiresAt time.Time `json:"expires_at"`
			}
			before := time.Now()
			r := h.as(t, h.vendor, "GET", servicePath(s.ID, "/files/", c.kind), nil).want(t, http.StatusOK)
			r.decode(t, &d)
			if d.Filename != c.filename {
				t.Errorf("filename %q, want %q", d.Filename, c.filename)
			}
			if e := d.ExpiresAt.Sub(before); e < downloadTTL-2*time.Second || e > downloadTTL+time.Second {
				t.Errorf("expires_at %v, want about %v from now", d.ExpiresAt, downloadTTL)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q: a signed link must not be cached", cc)
			}
			u, err := url.Parse(d.URL)
			if err != nil || u.Query().Get("X-Amz-Expires") != "300" || u.Query().Get("X-Amz-Signature") == "" {
				t.Errorf("link %s: want a presigned URL valid for 300 seconds", d.URL)
			}
			resp, raw := fetch(t, d.URL)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(raw, c.body) {
				t.Fatalf("GET the link: %d, %d bytes; want 200 and the %d uploaded bytes", resp.StatusCode, len(raw), len(c.body))
			}
			cd := resp.Header.Get("Content-Disposition")
			if !strings.Contains(cd, "attachment") || !strings.Contains(cd, c.filename) || strings.Contains(cd, "final") || strings.Contains(cd, "内部") {
				t.Errorf("Content-Disposition %q, want an attachment named %s", cd, c.filename)
			}
		})
	}

	// A new logo replaces the old one.
	newLogo := file{kind: "logo", contentType: ctJPEG, filename: "new.jpg", body: jpegBytes(t)}
	h.attach(t, h.vendor, s.ID, newLogo)
	var d struct{ URL, Filename string }
	h.as(t, h.vendor, "GET", servicePath(s.ID, "/files/logo"), nil).want(t, http.StatusOK).decode(t, &d)
	if _, raw := fetch(t, d.URL); !bytes.Equal(raw, newLogo.body) || d.Filename != s.ModuleCode+"-logo.jpg" {
		t.Errorf("after replacing the logo: %s, %d bytes; want the new JPEG", d.Filename, len(raw))
	}
}

func TestDownloadOfAMissingFileIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.newService(t, "公积金提取")
	h.attach(t, h.vendor, s.ID, logoPNG(t))
	pending := h.start(t, h.vendor, s.ID, securityPDF().form())
	h.put(t, pending, securityPDF().body) // uploaded but never completed: not attached
	for _, path := range []string{
		servicePath(s.ID, "/files/functional_report"),
		servicePath(s.ID, "/files/security_report"),
		servicePath(s.ID, "/files/business_licence"),
		servicePath(s.ID, "/files/LOGO"),
		servicePath(s.ID, "/files/logo%2F..%2F..%2Fsecurity_report"),
		servicePath("7e3b0c1a-2d4f-4a6b-8c9d-0e1f2a3b4c5d", "/files/logo"),
	} {
		h.as(t, h.vendor, "GET", path, nil).wantProblem(t, http.StatusNotFound, fn.CodeNotFound)
	}
}
