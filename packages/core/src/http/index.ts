export type { HttpApp, HttpAppOptions } from './app.ts'
export { createHttpApp, DEFAULT_MAX_BODY_BYTES } from './app.ts'
export type { HttpServerHandle, ServeHttpOptions } from './serve.ts'
export { serveHttp } from './serve.ts'
