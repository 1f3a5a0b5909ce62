// The platform's APIs, through the gateway on this origin. The session is the HttpOnly
// cookie; every change echoes the readable CSRF cookie in X-CSRF-Token. Errors are
// problem+json (RFC 9457): ApiError carries its code, detail and invalid_params.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || '';
    this.problem = problem;
    this.params = Array.isArray(problem.invalid_params) ? problem.invalid_params : [];
  }
}

export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'jlb_csrf') return decodeURIComponent(v.join('='));
  }
  return '';
}

/** api(method, path, body?) resolves to the JSON answer (null for 204) or rejects with ApiError. */
export async function api(method, path, body, { quiet = false } = {}) {
  // The session lives in the HttpOnly cookie: ask sign-in not to hand this page its token.
  const headers = { Accept: 'application/json', 'X-Session-Transport': 'cookie' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { code: 'network', detail: e.message });
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json().catch(() => ({})) : {};
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (!quiet && (err.code === 'unauthenticated' || err.code === 'password-change-required')) {
      window.dispatchEvent(new CustomEvent('jlb:auth', { detail: err.code }));
    }
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/** query builds "?a=1&b=2" from the non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

// The file types the platform takes, by extension, for browsers that report none.
const TYPES = {
  pdf: 'application/pdf', doc: 'application/msword', zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', svg: 'image/svg+xml',
};

export function fileType(file) {
  if (file.type) return file.type;
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  return TYPES[ext] || 'application/octet-stream';
}

/**
 * putFile sends a file straight to the object store with a presigned PUT (from the
 * platform's "start upload" answer: url, method, headers), reporting progress 0-1.
 */
export function putFile(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || 'PUT', upload.url);
    for (const [k, v] of Object.entries(upload.headers || {})) {
      // The browser sets Content-Length and Host itself and refuses to be told them.
      if (!/^(content-length|host)$/i.test(k)) xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve();
      } else {
        reject(new ApiError(xhr.status, { code: 'upload-failed', detail: `The object store answered ${xhr.status}.` }));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, { code: 'upload-failed', detail: 'The object store could not be reached.' }));
    xhr.send(file);
  });
}
