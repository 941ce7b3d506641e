// capture.js — microphone capture for a live call: getUserMedia → AudioWorklet
// (ScriptProcessor where worklets are unavailable) → mono → 16 kHz float32, handed
// out in 100-ms chunks (1600 samples) with their RMS level.

export const TARGET_RATE = 16000;
export const CHUNK = 1600;

// Streaming decimator: each output sample is the mean of the input samples in its
// interval (a box low-pass, enough for speech), for any rate ≥ 16 kHz.
export class Downsampler {
  constructor(inRate, outRate = TARGET_RATE) {
    if (inRate < outRate) throw new Error(`microphone rate ${inRate} Hz is below ${outRate} Hz`);
    this.ratio = inRate / outRate;
    this.pos = 0;
    this.next = this.ratio;
    this.sum = 0;
    this.n = 0;
  }

  push(input) {
    const out = new Float32Array(Math.ceil(input.length / this.ratio) + 1);
    let k = 0;
    for (let i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.n += 1;
      this.pos += 1;
      if (this.pos >= this.next - 1e-9) {
        out[k++] = this.sum / this.n;
        this.sum = 0;
        this.n = 0;
        this.next += this.ratio;
      }
    }
    return out.subarray(0, k);
  }
}

// Float32 little-endian bytes, whatever the platform's byte order.
export function float32le(samples) {
  const buf = new ArrayBuffer(samples.length * 4);
  const view = new DataView(buf);
  for (let i = 0; i < samples.length; i++) {
    const s = Number.isFinite(samples[i]) ? Math.max(-1, Math.min(1, samples[i])) : 0;
    view.setFloat32(i * 4, s, true);
  }
  return buf;
}

export function rms(samples) {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += samples[i] * samples[i];
  return samples.length ? Math.sqrt(s / samples.length) : 0;
}

export class MicCapture {
  // onChunk(Float32Array of CHUNK samples at 16 kHz, rms)
  constructor(onChunk) {
    this.onChunk = onChunk;
    this.pending = new Float32Array(CHUNK);
    this.fill = 0;
  }

  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error('this browser cannot capture the microphone (a secure origin is needed: https or localhost)');
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (err) {
      if (err && err.name === 'NotAllowedError') throw new Error('microphone permission was denied');
      if (err && err.name === 'NotFoundError') throw new Error('no microphone was found');
      throw new Error(`cannot open the microphone: ${err && err.message ? err.message : err}`);
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    try {
      this.ctx = new Ctx({ sampleRate: TARGET_RATE }); // the browser resamples when it can
    } catch {
      this.ctx = new Ctx();
    }
    this.down = new Downsampler(this.ctx.sampleRate);
    this.source = this.ctx.createMediaStreamSource(this.stream);
    this.sink = this.ctx.createGain();
    this.sink.gain.value = 0; // keep the graph pulled without playing the caller back
    this.sink.connect(this.ctx.destination);
    if (this.ctx.audioWorklet && window.AudioWorkletNode) {
      await this.ctx.audioWorklet.addModule(new URL('./pcm-worklet.js', import.meta.url));
      this.node = new AudioWorkletNode(this.ctx, 'pcm-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1 });
      this.node.port.onmessage = (ev) => this.feed(ev.data);
    } else {
      this.node = this.ctx.createScriptProcessor(4096, 1, 1);
      this.node.onaudioprocess = (ev) => this.feed(ev.inputBuffer.getChannelData(0));
    }
    this.source.connect(this.node);
    this.node.connect(this.sink);
    if (this.ctx.state === 'suspended') await this.ctx.resume();
    return this.ctx.sampleRate;
  }

  feed(block) {
    const samples = this.down.push(block);
    for (let i = 0; i < samples.length; i++) {
      this.pending[this.fill++] = samples[i];
      if (this.fill === CHUNK) {
        const chunk = this.pending;
        this.pending = new Float32Array(CHUNK);
        this.fill = 0;
        this.onChunk(chunk, rms(chunk));
      }
    }
  }

  // Hands out the last partial chunk (before hanging up).
  flush() {
    if (this.fill > 0) {
      const chunk = this.pending.slice(0, this.fill);
      this.fill = 0;
      this.onChunk(chunk, rms(chunk));
    }
  }

  async stop() {
    if (this.node) {
      if (this.node.port) this.node.port.onmessage = null;
      else this.node.onaudioprocess = null;
      this.node.disconnect();
    }
    if (this.source) this.source.disconnect();
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    if (this.ctx && this.ctx.state !== 'closed') await this.ctx.close();
    this.node = this.source = this.stream = this.ctx = null;
  }
}
