import { describe, expect, it } from 'vitest';
import { originOf, redactText, redactUrls } from './redact';

describe('redaction of addresses', () => {
  it('keeps the origin of a URL: no user, password, path or query', () => {
    expect(originOf('https://user:s3cret@hooks.example.com:8443/t/abc?token=1#x')).toBe(
      'https://hooks.example.com:8443',
    );
    expect(originOf('redis://:pw@10.0.0.1:6379/0')).toBe('redis://10.0.0.1:6379');
    expect(originOf('http://[::1]:8000/predict')).toBe('http://[::1]:8000');
  });

  it('rewrites every URL in a text and leaves the rest alone', () => {
    expect(redactText('predictor http://model:8000/v1/predict?key=abc answered HTTP 500')).toBe(
      'predictor http://model:8000 answered HTTP 500',
    );
    expect(redactText('no address here: 12:30, a/b')).toBe('no address here: 12:30, a/b');
  });

  it('walks JSON: strings in objects and arrays, keys untouched', () => {
    const params = {
      topic: 'tx',
      predictor: { type: 'http', url: 'https://ml.example/predict?api_key=k' },
      hooks: ['https://a.example/x/y'],
      count: 3,
      at: null,
    };
    expect(redactUrls(params)).toEqual({
      topic: 'tx',
      predictor: { type: 'http', url: 'https://ml.example' },
      hooks: ['https://a.example'],
      count: 3,
      at: null,
    });
    expect(params.predictor.url).toBe('https://ml.example/predict?api_key=k');
  });
});
