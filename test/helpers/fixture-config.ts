import path from 'node:path';
import { loadConfig } from '../../config/load-config';

/** The pipeline config most tests run against (each moves it into a Vertex project of its own: isolation.ts). */
export const testConfigPath = path.join(__dirname, '..', 'fixtures', 'config', 'pipelines.yaml');
export const testConfig = () => loadConfig(testConfigPath);
