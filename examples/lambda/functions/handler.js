'use strict';
// Invoked by pg-event-bridge with one envelope per event: { id, channel, routingKey, body,
// bodyEncoding, contentType?, headers, timestamp } (an array of them with batch_size > 1).
module.exports.hello = async (event) => {
  for (const envelope of Array.isArray(event) ? event : [event]) {
    const body = envelope.bodyEncoding === 'base64' ? Buffer.from(envelope.body, 'base64').toString() : envelope.body;
    console.log(`[lambda] ${envelope.channel} ${envelope.routingKey} | ${body}`);
  }
  return { ok: true };
};
