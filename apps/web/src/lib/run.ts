/** The run and image shapes the run, image and compare pages read (their fields: lib/fragments.ts). */
import type { ImageFieldsFragment, RunFieldsFragment } from '../gql/graphql';

export type RunDetail = RunFieldsFragment;
export type ImageNode = ImageFieldsFragment;
