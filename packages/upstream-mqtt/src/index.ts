export { createMqttPublisher } from './mqtt-publisher.js';
export {
  mqttTopic,
  resolveMqttOptions,
  MQTT_PROTOCOL_MAX_BYTES,
  type MqttProtocolVersion,
  type MqttPublisherOptions,
  type ResolvedMqttOptions,
} from './mqtt-options.js';
export { encodeMqttPropertyValue, invalidTopicReason, mqttUserProperties, MAX_MQTT_STRING_BYTES } from './mqtt-strings.js';
export { mqttUpstream } from './mqtt-upstream.js';
