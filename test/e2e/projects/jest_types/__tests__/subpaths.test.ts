// Every public entry point resolves with types under node16 resolution (package.json "exports").
import { trace, CallPathPattern } from 'jest-ustack';
import type UstackEnvironment from 'jest-ustack/environment';
import type serializer from 'jest-ustack/serializer';
import 'jest-ustack/setup';

const pattern: CallPathPattern = new CallPathPattern('main > **');
const matches: boolean = pattern.matches(['main', 'x']);
type Env = InstanceType<typeof UstackEnvironment>;
const test: (val: unknown) => boolean = (null as unknown as typeof serializer).test;
void [trace, matches, test, null as unknown as Env];
