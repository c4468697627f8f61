/** Small binary fixtures, base64: a 1×1 red PNG and 8 samples of 8 kHz mono 16-bit silence as WAV. */
export const RED_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC'
export const SILENCE_WAV = 'UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA'

export const image = { type: 'image' as const, data: RED_PIXEL_PNG, mimeType: 'image/png' }
export const audio = { type: 'audio' as const, data: SILENCE_WAV, mimeType: 'audio/wav' }

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
