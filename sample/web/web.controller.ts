import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Public } from 'nestjs-jwt-revocation';

interface ResponseLike {
  setHeader(name: string, value: string): unknown;
  send(body: string): unknown;
}

/**
 * The sample's pages: sign in, sign up, and the account page with "your
 * devices". Three files, served by the app itself (no front-end server, no
 * build step, nothing from another origin), read once at boot from
 * sample/web/public, which sits at the same place in the sources and beside
 * the build.
 */
function publicDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'sample', 'web', 'public');
  }
  throw new Error('sample/web/public not found above the sample');
}

const dir = publicDir();
const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const PAGE = read('index.html');
const SCRIPT = read('app.js');
const STYLE = read('app.css');

/**
 * The pages' own policy, narrower than the API's `default-src 'none'` only
 * where a page needs it: its script and style from this origin, fetch to this
 * origin, forms nowhere else. No inline script or style, so an injected one
 * does not run.
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

@Public()
@Controller()
export class WebController {
  /** One page for every view: the script shows the one the path names (and sends a signed-out visitor to /signin). */
  @Get(['/', 'signin', 'signup', 'account'])
  page(@Res() response: ResponseLike): void {
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.setHeader('Content-Security-Policy', PAGE_POLICY);
    response.send(PAGE);
  }

  @Get('assets/app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return SCRIPT;
  }

  /** No icon: an empty answer, not the 404 every browser would log. */
  @Get('favicon.ico')
  @HttpCode(204)
  icon(): void {}

  @Get('assets/app.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return STYLE;
  }
}
