import { describe, expect, it } from 'vitest';
import { createRouteMatcher } from '../src/server/route-table.js';

describe('the route table', () => {
  const match = createRouteMatcher({ modelName: 'digits', predictRoute: '/predict', healthRoute: '/health' });

  it('matches each route by method and path, with the version decoded and health open', () => {
    expect(match('POST', '/v2/models/digits/infer')).toEqual({ name: 'infer', open: false });
    expect(match('POST', '/v2/models/digits/versions/2/infer')).toEqual({
      name: 'infer',
      open: false,
      version: '2',
    });
    expect(match('GET', '/v2/models/digits/versions/a%20b')).toEqual({
      name: 'modelMetadata',
      open: false,
      version: 'a b',
    });
    expect(match('GET', '/v2/models/digits/ready')).toEqual({ name: 'modelReady', open: false });
    expect(match('GET', '/v2/health/live')).toEqual({ name: 'serverLive', open: true });
    expect(match('GET', '/v2/health/ready')).toEqual({ name: 'serverReady', open: true });
    expect(match('GET', '/ping')).toEqual({ name: 'ping', open: true });
    expect(match('GET', '/health')).toEqual({ name: 'ping', open: true });
    expect(match('POST', '/invocations')).toEqual({ name: 'invocations', open: false });
    expect(match('POST', '/endpoints/digits/invocations')).toEqual({ name: 'invocations', open: false });
    expect(match('POST', '/v1/projects/p/locations/l/endpoints/e:predict')).toEqual({
      name: 'predict',
      open: false,
    });
    expect(match('POST', '/predict')).toEqual({ name: 'predict', open: false });
    expect(match('GET', '/v2')).toEqual({ name: 'serverMetadata', open: false });
    expect(match('GET', '/metrics')).toEqual({ name: 'metrics', open: false });
  });

  it('answers another method 405, another model or endpoint 404 naming it, and anything else 404', () => {
    const error = (method: string, path: string) => {
      const matched = match(method, path);
      return 'error' in matched ? { status: matched.error.status, message: matched.error.message } : matched;
    };
    expect(error('GET', '/v2/models/digits/infer')).toEqual({
      status: 405,
      message: 'method GET is not allowed on /v2/models/digits/infer',
    });
    expect(error('DELETE', '/metrics')).toMatchObject({ status: 405 });
    expect(error('POST', '/v2/models/other/infer')).toEqual({
      status: 404,
      message: "unknown model 'other'",
    });
    expect(error('POST', '/endpoints/other/invocations')).toEqual({
      status: 404,
      message: "endpoint 'other' is not served here; this server serves 'digits'",
    });
    expect(error('GET', '/v2/models/digits/whatever')).toEqual({
      status: 404,
      message: 'no route for /v2/models/digits/whatever',
    });
    expect(error('GET', '/nowhere')).toMatchObject({
      status: 404,
      message: expect.stringMatching(/^no route GET \/nowhere; expected/),
    });
    expect(error('POST', '/v1/projects/p/locations/l/endpoints/:predict')).toMatchObject({ status: 404 });
    expect(() => match('GET', '/v2/models/digits/versions/%E0%A4%A')).toThrow(/malformed %-encoding/);
  });
});
